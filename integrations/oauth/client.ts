import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { assertSafeEndpoint, type EndpointPolicy } from './endpoint-guard.js';
import { sameSecret } from './pkce.js';

/**
 * Why an OAuth/OIDC step failed. `code` is stable; `message` is safe to log and show: it never
 * contains a code, verifier, token or client secret (provider error descriptions are dropped
 * for that reason: some echo the request back).
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly code:
      | 'invalid_grant'
      | 'invalid_client'
      | 'access_denied'
      | 'state_mismatch'
      | 'invalid_id_token'
      | 'unsafe_endpoint'
      | 'discovery_failed'
      | 'provider_error'
      | 'rate_limited'
      | 'network',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** How this client authenticates to the token endpoint. */
export interface OAuthClient {
  clientId: string;
  /** Present = confidential client (HTTP Basic, RFC 6749 §2.3.1); absent = public client. */
  clientSecret?: string;
}

const TokenResponse = z
  .object({
    access_token: z.string().min(1),
    token_type: z.string().optional(),
    expires_in: z.coerce.number().optional(),
    refresh_token: z.string().min(1).optional(),
    id_token: z.string().optional(),
    scope: z.string().optional(),
    // SMART launch context; Epic also sends `__epic.dstu2.patient` and others, kept in `extra`.
    patient: z.string().optional(),
  })
  .loose();
export type TokenResponse = z.infer<typeof TokenResponse>;

const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/**
 * POSTs a grant to a token endpoint (form-encoded, JSON back). The endpoint is checked against
 * private and link-local ranges before the request, because the request carries the client
 * secret and a code, verifier or refresh token. Redirects are refused, not followed.
 */
export async function requestToken(
  tokenEndpoint: string,
  grant: Record<string, string>,
  client: OAuthClient,
  opts: EndpointPolicy & { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<TokenResponse> {
  const url = await guard(tokenEndpoint, opts);
  const body = new URLSearchParams(grant);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.clientSecret) {
    // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64')}`;
  } else {
    body.set('client_id', client.clientId);
  }
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { method: 'POST', headers, body, redirect: 'manual', signal: opts.signal ?? AbortSignal.timeout(30_000) });
  } catch {
    throw new OAuthError('network', `The sign-in server at ${url.host} could not be reached.`);
  }
  const json = (await res.json().catch(() => null)) as { error?: unknown } | null;
  if (!res.ok) {
    const err = typeof json?.error === 'string' ? json.error : '';
    if (res.status === 429) throw new OAuthError('rate_limited', `The sign-in server at ${url.host} is rate limiting requests.`, 429);
    if (err === 'invalid_grant') throw new OAuthError('invalid_grant', 'The authorization was refused or has expired.', res.status);
    if (err === 'invalid_client' || res.status === 401)
      throw new OAuthError('invalid_client', "The sign-in server did not accept this app's credentials.", res.status);
    throw new OAuthError('provider_error', `The sign-in server answered ${res.status}${/^[a-z_]{1,40}$/.test(err) ? ` (${err})` : ''}.`, res.status);
  }
  const parsed = TokenResponse.safeParse(json);
  if (!parsed.success) throw new OAuthError('provider_error', 'The sign-in server sent an unreadable token response.');
  if (parsed.data.token_type && parsed.data.token_type.toLowerCase() !== 'bearer') {
    throw new OAuthError('provider_error', 'The sign-in server issued a token type this app does not use.');
  }
  return parsed.data;
}

/** RFC 7009 revocation; best effort (a provider that does not know the token answers 200 anyway). */
export async function revokeToken(
  revocationEndpoint: string,
  token: string,
  hint: 'refresh_token' | 'access_token',
  client: OAuthClient,
  opts: EndpointPolicy & { fetch?: typeof fetch } = {},
): Promise<boolean> {
  const url = await guard(revocationEndpoint, opts);
  const body = new URLSearchParams({ token, token_type_hint: hint });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.clientSecret) headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64')}`;
  else body.set('client_id', client.clientId);
  try {
    const res = await (opts.fetch ?? fetch)(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel().catch(() => {});
    return res.ok;
  } catch {
    return false;
  }
}

async function guard(raw: string, policy: EndpointPolicy): Promise<URL> {
  try {
    return await assertSafeEndpoint(raw, policy);
  } catch (err) {
    throw new OAuthError('unsafe_endpoint', (err as Error).message);
  }
}

/** GETs a JSON document from a checked endpoint (discovery documents). */
export async function fetchJson(raw: string, opts: EndpointPolicy & { fetch?: typeof fetch } = {}): Promise<unknown> {
  const url = await guard(raw, opts);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new OAuthError('discovery_failed', `${url.host} could not be reached.`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new OAuthError('discovery_failed', `${url.host} answered ${res.status} to ${url.pathname}.`, res.status);
  }
  return res.json().catch(() => {
    throw new OAuthError('discovery_failed', `${url.host} sent an unreadable document at ${url.pathname}.`);
  });
}

/** Signature algorithms accepted on id_tokens: asymmetric only, so `none` and HS256-with-the-public-key tricks fail. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Verifies an OpenID Connect id_token against the issuer's JWKS: signature with an allow-listed
 * asymmetric algorithm, `iss`, `aud` (and `azp` when several audiences), `exp`/`iat` with one
 * minute of clock tolerance, and `nonce` (constant-time). The JWKS URL is checked like any other
 * discovered endpoint before it is fetched.
 * @throws OAuthError('invalid_id_token') with a reason that contains no token material.
 */
export async function verifyIdToken(
  idToken: string,
  expected: { issuer: string; audience: string; nonce: string; jwksUri: string },
  policy: EndpointPolicy = {},
): Promise<JWTPayload & { sub: string }> {
  await guard(expected.jwksUri, policy);
  let jwks = jwksCache.get(expected.jwksUri);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(expected.jwksUri), { timeoutDuration: 10_000, cooldownDuration: 30_000 });
    jwksCache.set(expected.jwksUri, jwks);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwks, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: [...ID_TOKEN_ALGORITHMS],
      clockTolerance: 60,
      requiredClaims: ['sub', 'exp', 'iat'],
    }));
  } catch (err) {
    throw new OAuthError('invalid_id_token', `The identity token was refused (${reasonOf(err)}).`);
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expected.audience) {
    throw new OAuthError('invalid_id_token', 'The identity token was refused (authorized party).');
  }
  if (!sameSecret(typeof payload.nonce === 'string' ? payload.nonce : undefined, expected.nonce)) {
    throw new OAuthError('invalid_id_token', 'The identity token was refused (nonce).');
  }
  return payload as JWTPayload & { sub: string };
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim ${err.claim}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown key';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed';
  return 'verification';
}

/** The query an authorization server sends back to a redirect URI, classified. */
export function readCallback(query: Record<string, unknown>): { code: string; state: string } | { error: string; state?: string } {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const error = str(query.error);
  if (error) return { error: /^[a-z_]{1,40}$/.test(error) ? error : 'provider_error', state: str(query.state) };
  const code = str(query.code);
  const state = str(query.state);
  if (!code || !state) return { error: 'invalid_request', state };
  return { code, state };
}
