import * as oidc from 'openid-client';
import { assertSafeEndpoint, type EndpointPolicy } from './endpoint-guard.js';
import { OAuthError, toOAuthError } from './errors.js';
import { guardedFetch } from './guarded-fetch.js';

/** How this client authenticates to the token endpoint. */
export interface OAuthClient {
  clientId: string;
  /** Present = confidential client (HTTP Basic, RFC 6749 §2.3.1); absent = public client. */
  clientSecret?: string;
}

/** What a code exchange or refresh returns, as the provider sent it (SMART's `patient` included). */
export type TokenResponse = oidc.TokenEndpointResponse & { patient?: unknown };

/** The endpoints this app uses from a discovery document; others are passed through as sent. */
export type ProviderMetadata = oidc.ServerMetadata;

/**
 * One authorization server as this app's client: openid-client's `Configuration` with the
 * endpoint guard as its fetch. Discovery, PKCE, the authorization URL, code exchange (with
 * id_token validation: signature against the provider's JWKS, `iss`, `aud`/`azp`, `exp`/`iat`,
 * `nonce`), refresh and revocation are the library's; this class only picks the options this
 * app always wants and turns the library's errors into {@link OAuthError}s that carry no secret.
 */
export class OAuthProvider {
  private constructor(
    readonly config: oidc.Configuration,
    private readonly host: string,
  ) {}

  /**
   * OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`). openid-client
   * requires the document's `issuer` to equal the configured one (OIDC Discovery §4.3); every
   * endpoint in it is checked by the endpoint guard now, before the first redirect, and again
   * on each request. A provider advertising PKCE methods without S256 is refused.
   * @throws OAuthError('discovery_failed' | 'unsafe_endpoint')
   */
  static async discover(issuer: string, client: OAuthClient, policy: EndpointPolicy = {}): Promise<OAuthProvider> {
    const server = new URL(issuer);
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(server, client.clientId, clientMetadata(), clientAuth(client), {
        [oidc.customFetch]: guardedFetch(policy),
        execute: policy.allowHttpLoopback ? [oidc.allowInsecureRequests] : [],
        timeout: 15,
      });
    } catch (err) {
      throw toOAuthError(err, 'discovery', server.host);
    }
    return OAuthProvider.#finish(config, policy);
  }

  /**
   * A provider from a document fetched elsewhere (SMART's `.well-known/smart-configuration`,
   * which is not at an issuer-derived path and may name no issuer).
   */
  static async fromMetadata(metadata: ProviderMetadata, client: OAuthClient, policy: EndpointPolicy = {}): Promise<OAuthProvider> {
    const config = new oidc.Configuration(metadata, client.clientId, clientMetadata(), clientAuth(client));
    return OAuthProvider.#finish(config, policy);
  }

  static async #finish(config: oidc.Configuration, policy: EndpointPolicy): Promise<OAuthProvider> {
    const m = config.serverMetadata();
    if (m.code_challenge_methods_supported && !m.supportsPKCE('S256')) {
      throw new OAuthError('discovery_failed', 'The sign-in provider does not support PKCE S256, which this app requires.');
    }
    for (const u of [m.authorization_endpoint, m.token_endpoint, m.jwks_uri, m.revocation_endpoint]) {
      if (!u) continue;
      try {
        await assertSafeEndpoint(u, policy);
      } catch (err) {
        throw new OAuthError('unsafe_endpoint', `The sign-in provider's discovery document was refused: ${(err as Error).message}`);
      }
    }
    config[oidc.customFetch] = guardedFetch(policy);
    config.timeout = 30;
    if (policy.allowHttpLoopback) oidc.allowInsecureRequests(config);
    // Tokens come straight from the token endpoint over TLS, which OIDC Core §3.1.3.7 deems
    // enough; the id_token's signature is checked against the JWKS anyway (defence in depth,
    // and what the hand-written client did before).
    if (m.jwks_uri) oidc.enableNonRepudiationChecks(config);
    const named = m.token_endpoint ?? m.issuer;
    return new OAuthProvider(config, URL.canParse(named) ? new URL(named).host : 'the provider');
  }

  get metadata(): ProviderMetadata {
    return this.config.serverMetadata();
  }

  /** The front-channel authorization request; `client_id` and `response_type=code` are added. */
  authorizationUrl(params: Record<string, string>): string {
    try {
      return oidc.buildAuthorizationUrl(this.config, params).toString();
    } catch (err) {
      throw toOAuthError(err, 'discovery', this.host);
    }
  }

  /**
   * Exchanges an authorization code. `callback` is the query the provider sent back (state
   * already matched by the caller in constant time; the library checks it again, and `iss`
   * where the provider advertises RFC 9207). With `nonce`, an id_token is required and
   * validated; without one, an id_token the provider sends anyway is still validated.
   * @throws OAuthError
   */
  async exchangeCode(
    callback: URLSearchParams,
    checks: { redirectUri: string; verifier: string; state: string; nonce?: string },
  ): Promise<{ tokens: TokenResponse; claims?: oidc.IDToken }> {
    const current = new URL(checks.redirectUri);
    for (const [k, v] of callback) current.searchParams.append(k, v);
    try {
      const tokens = await oidc.authorizationCodeGrant(this.config, current, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        ...(checks.nonce ? { expectedNonce: checks.nonce, idTokenExpected: true } : {}),
      });
      return { tokens: { ...tokens }, claims: tokens.claims() };
    } catch (err) {
      throw toOAuthError(err, 'token', this.host);
    }
  }

  /** A refresh grant; the provider may or may not rotate the refresh token. @throws OAuthError */
  async refresh(refreshToken: string): Promise<TokenResponse> {
    try {
      return { ...(await oidc.refreshTokenGrant(this.config, refreshToken)) };
    } catch (err) {
      throw toOAuthError(err, 'token', this.host);
    }
  }

  /** RFC 7009 revocation, best effort: false when there is no endpoint or the call failed. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
    if (!this.config.serverMetadata().revocation_endpoint) return false;
    try {
      await oidc.tokenRevocation(this.config, token, { token_type_hint: hint });
      return true;
    } catch {
      return false;
    }
  }
}

// One minute of clock tolerance on id_token times, as before (the library's default is 30 s).
function clientMetadata(): Partial<oidc.ClientMetadata> {
  return { [oidc.clockTolerance]: 60 };
}

function clientAuth(client: OAuthClient): oidc.ClientAuth {
  // HTTP Basic, both parts form-urlencoded (RFC 6749 §2.3.1), as Google and Epic document.
  return client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
}

/** A fresh state, nonce and PKCE S256 pair for one redirect (`plain` is never used). */
export async function newFlowSecrets(): Promise<{ state: string; nonce: string; verifier: string; challenge: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  return { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}
