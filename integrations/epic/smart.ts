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
import type { EndpointPolicy } from '../oauth/endpoint-guard.js';
import { OAuthError } from '../oauth/errors.js';
import { fetchJson } from '../oauth/discovery.js';
import { OAuthProvider, type OAuthClient } from '../oauth/provider.js';

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
 * Fetches `<base>/.well-known/smart-configuration` through the guarded fetch. The document is
 * not at an issuer-derived path and Epic's names no issuer, so openid-client's own discovery
 * does not apply: {@link smartProvider} hands the fetched document to it instead.
 * @throws OAuthError('discovery_failed' | 'unsafe_endpoint')
 */
export async function discoverSmart(base: string, policy: EndpointPolicy = {}): Promise<SmartConfiguration> {
  const doc = await fetchJson(`${normalizeBase(base)}/.well-known/smart-configuration`, policy);
  const parsed = SmartConfiguration.safeParse(doc);
  if (!parsed.success) throw new OAuthError('discovery_failed', 'The SMART configuration of this endpoint is incomplete.');
  return parsed.data;
}

/**
 * The SMART server as an OAuth client configuration. Every endpoint in the document (authorize,
 * token, JWKS, revocation) is checked against private, loopback and link-local addresses before
 * any secret is sent anywhere; a server advertising PKCE methods without S256 is refused.
 * Without an `issuer` in the document the FHIR base stands in for it: `openid` is then not
 * requested, and an id_token sent anyway fails validation rather than being trusted.
 * @throws OAuthError('discovery_failed' | 'unsafe_endpoint')
 */
export function smartProvider(c: SmartConfiguration, base: string, client: OAuthClient, policy: EndpointPolicy = {}): Promise<OAuthProvider> {
  return OAuthProvider.fromMetadata({ ...c, issuer: c.issuer ?? normalizeBase(base) }, client, policy);
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

/** The front-channel authorization request's parameters (public: state, nonce, S256 challenge). */
export function smartAuthorizeParams(
  c: SmartConfiguration,
  p: { clientId: string; redirectUri: string; fhirBase: string; state: string; nonce: string; codeChallenge: string; scope?: string },
): Record<string, string> {
  return {
    response_type: 'code',
    client_id: p.clientId,
    redirect_uri: p.redirectUri,
    scope: p.scope ?? smartScopes(c),
    state: p.state,
    aud: normalizeBase(p.fhirBase),
    code_challenge: p.codeChallenge,
    code_challenge_method: 'S256',
    ...(canVerifyIdToken(c) ? { nonce: p.nonce } : {}),
  };
}

/** The front-channel authorization request as a URL on the document's authorize endpoint. */
export function smartAuthorizeUrl(c: SmartConfiguration, p: Parameters<typeof smartAuthorizeParams>[1]): string {
  const url = new URL(c.authorization_endpoint);
  for (const [k, v] of Object.entries(smartAuthorizeParams(c, p))) url.searchParams.set(k, v);
  return url.toString();
}
