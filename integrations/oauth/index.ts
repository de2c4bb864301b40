export { assertSafeEndpoint, UnsafeEndpointError, type EndpointPolicy } from './endpoint-guard.js';
export { guardedFetch, readCapped, MAX_OAUTH_RESPONSE_BYTES, OversizedResponseError } from './guarded-fetch.js';
export { OAuthError, toOAuthError } from './errors.js';
export { OAuthProvider, newFlowSecrets, type OAuthClient, type ProviderMetadata, type TokenResponse } from './provider.js';
export { readCallback, sameSecret } from './callback.js';
export { DiscoveryCache, fetchJson } from './discovery.js';
export { parseRetryAfter, retryAtAfter, MAX_RETRY_AFTER_MS } from './retry-after.js';
export { scrubProviderText, MAX_PROVIDER_TEXT } from './provider-text.js';
