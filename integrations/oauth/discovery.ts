import { z } from 'zod';
import { assertSafeEndpoint, type EndpointPolicy } from './endpoint-guard.js';
import { OAuthError, fetchJson } from './client.js';

const OidcConfiguration = z
  .object({
    issuer: z.string().url(),
    authorization_endpoint: z.string().url(),
    token_endpoint: z.string().url(),
    jwks_uri: z.string().url(),
    revocation_endpoint: z.string().url().optional(),
    code_challenge_methods_supported: z.array(z.string()).optional(),
  })
  .loose();
export type OidcConfiguration = z.infer<typeof OidcConfiguration>;

/**
 * OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`). The document's
 * `issuer` must equal the configured one exactly (OIDC Discovery §4.3), and every endpoint is
 * checked against private and link-local addresses before it is used.
 * Google quirk: its document omits nothing we need, but lists `code_challenge_methods_supported`
 * as ["plain", "S256"]; only S256 is ever sent.
 */
export async function discoverOidc(issuer: string, policy: EndpointPolicy = {}): Promise<OidcConfiguration> {
  const base = issuer.replace(/\/+$/, '');
  const parsed = OidcConfiguration.safeParse(await fetchJson(`${base}/.well-known/openid-configuration`, policy));
  if (!parsed.success) throw new OAuthError('discovery_failed', "The sign-in provider's discovery document is incomplete.");
  const c = parsed.data;
  if (c.issuer.replace(/\/+$/, '') !== base) throw new OAuthError('discovery_failed', "The sign-in provider's discovery document names another issuer.");
  if (c.code_challenge_methods_supported && !c.code_challenge_methods_supported.includes('S256')) {
    throw new OAuthError('discovery_failed', 'The sign-in provider does not support PKCE S256.');
  }
  for (const u of [c.authorization_endpoint, c.token_endpoint, c.jwks_uri, c.revocation_endpoint]) {
    if (!u) continue;
    try {
      await assertSafeEndpoint(u, policy);
    } catch (err) {
      throw new OAuthError('unsafe_endpoint', `The sign-in provider's discovery document was refused: ${(err as Error).message}`);
    }
  }
  return c;
}

/** Caches discovery per issuer for `ttlMs`, so sign-in does not fetch it on every request. */
export class DiscoveryCache<T> {
  readonly #entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly ttlMs = 3_600_000,
  ) {}

  get(key: string): Promise<T> {
    const e = this.#entries.get(key);
    if (e && e.until > Date.now()) return e.value;
    const value = this.load(key);
    this.#entries.set(key, { value, until: Date.now() + this.ttlMs });
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}
