/**
 * A connection that never opened, said safely for a log or a start-up line: the error's code and
 * the address it failed at (`ECONNREFUSED 127.0.0.1:5999`), never a message that could quote a
 * URL with its credentials. Undefined when the error's code is not one of `codes`.
 */
export function networkFailure(error: unknown, codes: ReadonlySet<string>): string | undefined {
  type E = { code?: unknown; address?: string; port?: number; hostname?: string; errors?: unknown[] };
  if (!error || typeof error !== 'object') return undefined;
  const e = error as E;
  // Several addresses tried for one host (IPv6 and IPv4) fail as one AggregateError of each.
  const first = (Array.isArray(e.errors) ? e.errors[0] : undefined) as E | undefined;
  const code = e.code ?? first?.code;
  if (typeof code !== 'string' || !codes.has(code)) return undefined;
  const address = e.address ?? first?.address;
  const port = e.port ?? first?.port;
  const host = address ? (address.includes(':') ? `[${address}]` : address) : (e.hostname ?? first?.hostname);
  return host ? `${code} ${host}${port ? `:${port}` : ''}` : code;
}
