import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Why a URL was refused. The message names the host, never a query string. */
export class UnsafeEndpointError extends Error {
  override readonly name = 'UnsafeEndpointError';
  constructor(message: string) {
    super(message);
  }
}

export interface EndpointPolicy {
  /** Allow `http://127.0.0.1` / `http://[::1]` / `http://localhost` (tests only: ALLOW_HTTP_LOOPBACK). */
  allowHttpLoopback?: boolean;
  /** Injected for tests; defaults to the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
}

// Ranges a server-side request must never reach: private networks, CGNAT, link-local (where
// cloud metadata services live, 169.254.169.254 and fd00:ec2::254), multicast, reserved.
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) as its IPv4 form, so the v4 rules apply. */
function unmap(ip: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return { ip: m[1]!, family: 'ipv4' };
  return { ip, family: isIP(ip) === 6 ? 'ipv6' : 'ipv4' };
}

function isLoopback(ip: string): boolean {
  const a = unmap(ip);
  return loopback.check(a.ip, a.family);
}

function isBlocked(ip: string): boolean {
  const a = unmap(ip);
  return blocked.check(a.ip, a.family);
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * Refuses a URL this server should not call with a secret: anything but https (plain http only
 * to loopback when the policy allows it), credentials in the URL, and hosts that resolve to a
 * private, loopback, link-local, metadata or reserved address. Every resolved address is checked,
 * so a name with one public and one private address is refused.
 *
 * Residual risk, stated: the check resolves before `fetch` resolves again, so a DNS server that
 * answers differently within that window (rebinding) is not stopped here; redirects are never
 * followed by callers, which closes the other common bypass.
 * @returns the parsed URL.
 * @throws UnsafeEndpointError
 */
export async function assertSafeEndpoint(raw: string, policy: EndpointPolicy = {}): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeEndpointError('The endpoint is not a valid URL.');
  }
  if (url.username || url.password) throw new UnsafeEndpointError(`Endpoint ${url.host} carries credentials in its URL.`);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_HOSTS.has(host)) throw new UnsafeEndpointError(`Endpoint ${url.host} is a cloud metadata address.`);
  const addresses = isIP(host)
    ? [host]
    : host === 'localhost'
      ? ['127.0.0.1']
      : await (policy.resolve ?? systemResolve)(host).catch(() => {
          throw new UnsafeEndpointError(`Endpoint ${url.host} could not be resolved.`);
        });
  if (addresses.length === 0) throw new UnsafeEndpointError(`Endpoint ${url.host} could not be resolved.`);
  const allLoopback = addresses.every(isLoopback);
  if (url.protocol === 'http:') {
    if (!(policy.allowHttpLoopback && allLoopback)) throw new UnsafeEndpointError(`Endpoint ${url.host} must use https.`);
  } else if (url.protocol !== 'https:') {
    throw new UnsafeEndpointError(`Endpoint ${url.host} must use https.`);
  }
  for (const ip of addresses) {
    if (isLoopback(ip)) {
      if (!policy.allowHttpLoopback) throw new UnsafeEndpointError(`Endpoint ${url.host} points at this machine.`);
      continue;
    }
    if (isBlocked(ip)) throw new UnsafeEndpointError(`Endpoint ${url.host} points at a private or link-local address.`);
  }
  return url;
}
