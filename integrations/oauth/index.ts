export { assertSafeEndpoint, UnsafeEndpointError, type EndpointPolicy } from './endpoint-guard.js';
export { guardedFetch, readCapped, MAX_OAUTH_RESPONSE_BYTES, OversizedResponseError } from './guarded-fetch.js';
export { OAuthError, toOAuthError } from './errors.js';
export { OAuthProvider, newFlowSecrets, type OAuthClient, type ProviderMetadata, type TokenResponse } from './provider.js';
export { readCallback, sameSecret } from './callback.js';
export { DiscoveryCache, fetchJson } from './discovery.js';
