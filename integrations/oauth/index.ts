export { randomUrlToken, pkcePair, s256, sameSecret } from './pkce.js';
export { assertSafeEndpoint, UnsafeEndpointError, type EndpointPolicy } from './endpoint-guard.js';
export {
  OAuthError,
  requestToken,
  revokeToken,
  verifyIdToken,
  fetchJson,
  readCallback,
  ID_TOKEN_ALGORITHMS,
  type OAuthClient,
  type TokenResponse,
} from './client.js';
export { discoverOidc, DiscoveryCache, type OidcConfiguration } from './discovery.js';
