import { startAuthServer, type AuthServer } from '../integrations/oauth/auth-server.js';

export type { AuthServer as OidcProvider, IdTokenForgery } from '../integrations/oauth/auth-server.js';

/**
 * A local OpenID provider standing in for Google: discovery at
 * `<issuer>/.well-known/openid-configuration`, `/authorize` with real 302 redirects, `/token`
 * checking client secret, redirect URI and the PKCE verifier, `/jwks` (RS256 via jose), and
 * id_tokens with iss/aud/nonce/exp. Like Google, it issues refresh tokens without
 * `offline_access` (Google's `access_type=offline`). Pass `provider.issuer` as GOOGLE_ISSUER.
 */
export function startOidcProvider(opts: {
  clientId: string;
  clientSecret?: string;
  redirectUris?: string[];
  email?: string;
  sub?: string;
  accessToken?: () => string;
}): Promise<AuthServer> {
  return startAuthServer({
    clients: [{ clientId: opts.clientId, clientSecret: opts.clientSecret, redirectUris: opts.redirectUris }],
    subject: opts.sub,
    email: opts.email,
    refreshWithoutOfflineAccess: true,
    accessTokenFactory: opts.accessToken,
  });
}
