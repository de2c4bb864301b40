/**
 * SMART App Launch 2.x, standalone patient launch: discovery, scopes and the authorize URL.
 *
 * Epic quirks recorded here:
 * - Epic's `.well-known/smart-configuration` (Apotti's capture in fixtures/) lists no
 *   `code_challenge_methods_supported`, no `issuer`/`jwks_uri`, and `scopes_supported` without
 *   the patient scopes; absent is not "unsupported", so S256 is sent anyway and the id_token is
 *   verified only when the document names the issuer and its JWKS (otherwise `openid fhirUser`
 *   are not requested at all: an id_token that cannot be verified is not accepted).
 * - Epic grants refresh tokens only to confidential clients that ask for `offline_access`.
 * - The `aud` parameter must be the FHIR base URL exactly as registered.
 */
import { z } from 'zod';
import { assertSafeEndpoint, type EndpointPolicy } from '../oauth/endpoint-guard.js';
import { OAuthError, fetchJson } from '../oauth/client.js';

const SmartConfiguration = z
  .object({
    issuer: z.string().url().optional(),
    jwks_uri: z.string().url().optional(),
    authorization_endpoint: z.string().url(),
    token_endpoint: z.string().url(),
    revocation_endpoint: z.string().url().optional(),
    scopes_supported: z.array(z.string()).optional(),
    capabilities: z.array(z.string()).optional(),
    code_challenge_methods_supported: z.array(z.string()).optional(),
    token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  })
  .loose();
export type SmartConfiguration = z.infer<typeof SmartConfiguration>;

/** Normalises a configured FHIR base (no trailing slash) for comparison and URL building. */
export const normalizeBase = (base: string) => base.replace(/\/+$/, '');

/**
 * Fetches `<base>/.well-known/smart-configuration` and checks every endpoint in it (authorize,
 * token, JWKS, revocation) against private, loopback and link-local addresses before any secret
 * is sent anywhere. A server advertising PKCE methods without S256 is refused.
 * @throws OAuthError('discovery_failed' | 'unsafe_endpoint')
 */
export async function discoverSmart(base: string, policy: EndpointPolicy = {}): Promise<SmartConfiguration> {
  const doc = await fetchJson(`${normalizeBase(base)}/.well-known/smart-configuration`, policy);
  const parsed = SmartConfiguration.safeParse(doc);
  if (!parsed.success) throw new OAuthError('discovery_failed', 'The SMART configuration of this endpoint is incomplete.');
  const c = parsed.data;
  if (c.code_challenge_methods_supported && !c.code_challenge_methods_supported.includes('S256')) {
    throw new OAuthError('discovery_failed', 'This endpoint does not support PKCE S256, which this app requires.');
  }
  for (const u of [c.authorization_endpoint, c.token_endpoint, c.jwks_uri, c.revocation_endpoint]) {
    if (!u) continue;
    try {
      await assertSafeEndpoint(u, policy);
    } catch (err) {
      throw new OAuthError('unsafe_endpoint', `The endpoint's discovery document was refused: ${(err as Error).message}`);
    }
  }
  return c;
}

/** Whether the server takes SMART v2 scopes (`patient/*.rs`) rather than v1 (`patient/*.read`). */
export function usesV2Scopes(c: SmartConfiguration): boolean {
  return !!c.capabilities?.includes('permission-v2') || !!c.scopes_supported?.some((s) => /^(patient|user|system)\/.+\.[cruds]+$/.test(s));
}

/** Whether the id_token can be verified, so `openid fhirUser` are worth asking for. */
export const canVerifyIdToken = (c: SmartConfiguration) => !!(c.issuer && c.jwks_uri);

/** `launch/patient openid fhirUser offline_access patient/*.read` (or `.rs` on v2 servers). */
export function smartScopes(c: SmartConfiguration): string {
  const scopes = ['launch/patient'];
  if (canVerifyIdToken(c)) scopes.push('openid', 'fhirUser');
  scopes.push('offline_access', usesV2Scopes(c) ? 'patient/*.rs' : 'patient/*.read');
  return scopes.join(' ');
}

/** The front-channel authorization request (values are public: state, nonce, S256 challenge). */
export function smartAuthorizeUrl(
  c: SmartConfiguration,
  p: { clientId: string; redirectUri: string; fhirBase: string; state: string; nonce: string; codeChallenge: string; scope?: string },
): string {
  const url = new URL(c.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('scope', p.scope ?? smartScopes(c));
  url.searchParams.set('state', p.state);
  url.searchParams.set('aud', normalizeBase(p.fhirBase));
  url.searchParams.set('code_challenge', p.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (canVerifyIdToken(c)) url.searchParams.set('nonce', p.nonce);
  return url.toString();
}
