import { timingSafeEqual } from 'node:crypto';

/**
 * The query an authorization server sends back to a redirect URI, classified before anything
 * is sent anywhere: the caller matches `state` against its sealed flow cookie and chooses the
 * error it reports, then hands the query to {@link OAuthProvider.exchangeCode}.
 */
export function readCallback(query: Record<string, unknown>): { code: string; state: string; params: URLSearchParams } | { error: string; state?: string } {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const error = str(query.error);
  if (error) return { error: /^[a-z_]{1,40}$/.test(error) ? error : 'provider_error', state: str(query.state) };
  const code = str(query.code);
  const state = str(query.state);
  if (!code || !state) return { error: 'invalid_request', state };
  const params = new URLSearchParams({ code, state });
  // RFC 9207: the library checks `iss` where the provider advertises it.
  const iss = str(query.iss);
  if (iss) params.set('iss', iss);
  return { code, state, params };
}

/** Constant-time comparison of two strings (state, a MAC in base64). */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
