import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { UnsafeEndpointError } from './endpoint-guard.js';
import { OversizedResponseError, UnreachableError } from './guarded-fetch.js';

/**
 * Why an OAuth/OIDC step failed. `code` is stable; `message` is safe to log and show: it never
 * contains a code, verifier, token or client secret (provider error descriptions are dropped
 * for that reason: some echo the request back). It carries no `cause`: openid-client's errors
 * hold the response body (tokens included) and must not reach a logger.
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

/** Which step failed, so the same library error reads right in each place. */
export type OAuthStep = 'discovery' | 'token';

/** The chain of causes, outermost first (bounded: causes can be cyclic in principle). */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err, i = 0; e !== undefined && e !== null && i < 6; e = (e as { cause?: unknown }).cause, i++) out.push(e);
  return out;
}

/**
 * Turns whatever openid-client (or the guarded fetch under it) threw into an {@link OAuthError}
 * whose message names the host at most. Provider error codes are kept only when they look like
 * OAuth error codes; descriptions and bodies are dropped.
 */
export function toOAuthError(err: unknown, step: OAuthStep, host: string): OAuthError {
  if (err instanceof OAuthError) return err;
  const chain = causes(err);
  const unsafe = chain.find((e) => e instanceof UnsafeEndpointError);
  if (unsafe) return new OAuthError('unsafe_endpoint', (unsafe as Error).message);
  // The library's own https-only check (plain http is allowed only under ALLOW_HTTP_LOOPBACK).
  if (err instanceof ClientError && (err.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || err.code === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN')) {
    return new OAuthError('unsafe_endpoint', `Endpoint ${host} must use https.`);
  }
  const unreachable = chain.find((e) => e instanceof UnreachableError);
  if (unreachable || (err instanceof ClientError && (err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT'))) {
    return new OAuthError(step === 'discovery' ? 'discovery_failed' : 'network', `The sign-in server at ${host} could not be reached.`);
  }
  if (chain.some((e) => e instanceof OversizedResponseError)) {
    return new OAuthError(step === 'discovery' ? 'discovery_failed' : 'provider_error', `The sign-in server at ${host} sent an oversized response.`);
  }
  if (step === 'discovery') {
    if (err instanceof ClientError && err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
      return new OAuthError('discovery_failed', "The sign-in provider's discovery document names another issuer.");
    }
    const status = statusOf(err);
    return new OAuthError(
      'discovery_failed',
      status ? `${host} answered ${status} to its discovery request.` : `${host} sent an unreadable discovery document.`,
      status,
    );
  }
  if (err instanceof ResponseBodyError || err instanceof WWWAuthenticateChallengeError) {
    const code = err instanceof ResponseBodyError ? err.error : '';
    if (err.status === 429) return new OAuthError('rate_limited', `The sign-in server at ${host} is rate limiting requests.`, 429);
    if (code === 'invalid_grant') return new OAuthError('invalid_grant', 'The authorization was refused or has expired.', err.status);
    if (code === 'invalid_client' || err.status === 401)
      return new OAuthError('invalid_client', "The sign-in server did not accept this app's credentials.", err.status);
    return new OAuthError('provider_error', `The sign-in server answered ${err.status}${/^[a-z_]{1,40}$/.test(code) ? ` (${code})` : ''}.`, err.status);
  }
  const reason = idTokenReason(chain);
  if (reason) return new OAuthError('invalid_id_token', `The identity token was refused (${reason}).`);
  const status = statusOf(err);
  if (status) return new OAuthError('provider_error', `The sign-in server answered ${status}.`, status);
  return new OAuthError('provider_error', 'The sign-in server sent an unreadable token response.');
}

/** A short, token-free reason when the failure was about the id_token; undefined otherwise. */
function idTokenReason(chain: unknown[]): string | undefined {
  const claim = chain.map((e) => (e as { claim?: unknown } | null)?.claim).find((c): c is string => typeof c === 'string');
  for (const e of chain) {
    if (!(e instanceof Error)) continue;
    const code = (e as { code?: string }).code;
    if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return claim === 'exp' ? 'expired' : `claim ${claim ?? 'time'}`;
    if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return `claim ${claim ?? 'value'}`;
    if (code === 'OAUTH_KEY_SELECTION_FAILED') return 'unknown key';
    if (/signature verification failed/.test(e.message)) return 'signature';
    if (/"alg"|JWS algorithm/.test(e.message)) return 'algorithm';
    if (/\bJWT\b|ID Token/.test(e.message)) return 'malformed';
  }
  return undefined;
}

/** The HTTP status of a non-conforming response, when the library kept it. */
function statusOf(err: unknown): number | undefined {
  for (const e of causes(err)) if (e instanceof Response) return e.status;
  return undefined;
}
