import { DiscoveryCache, OAuthError, pkcePair, randomUrlToken, requestToken, revokeToken, verifyIdToken } from '../../../integrations/oauth/index.js';
import {
  EpicError,
  FhirClient,
  canVerifyIdToken,
  discoverSmart,
  normalizeBase,
  smartAuthorizeUrl,
  syncEpic,
  type SmartConfiguration,
} from '../../../integrations/epic/index.js';
import type { Config } from '../../config.js';
import { badRequest, notConfigured } from '../../errors.js';
import { ReauthRequiredError, expiresAt, type Connector, type ConnectFlow, type StoredGrant } from './connector.js';

/**
 * Epic, or any SMART on FHIR server listed in EPIC_FHIR_BASE_URLS: standalone patient launch,
 * confidential client when EPIC_CLIENT_SECRET is set (HTTP Basic), public client otherwise.
 * Only listed base URLs are ever contacted; their discovered endpoints are checked before use.
 */
export class EpicConnector implements Connector {
  readonly provider = 'epic' as const;
  readonly label = 'Epic';
  readonly #discovery: DiscoveryCache<SmartConfiguration>;

  constructor(private readonly config: Config) {
    this.#discovery = new DiscoveryCache((base) => discoverSmart(base, this.#policy), 15 * 60_000);
  }

  get #policy() {
    return { allowHttpLoopback: this.config.ALLOW_HTTP_LOOPBACK };
  }

  get #client() {
    return { clientId: this.config.EPIC_CLIENT_ID ?? '', clientSecret: this.config.EPIC_CLIENT_SECRET };
  }

  get #redirectUri() {
    return new URL('/api/integrations/epic/callback', this.config.publicUrl).toString();
  }

  configured(): boolean {
    return !!this.config.EPIC_CLIENT_ID && this.config.EPIC_FHIR_BASE_URLS.length > 0;
  }

  endpoints(): string[] {
    return this.config.EPIC_FHIR_BASE_URLS.map(normalizeBase);
  }

  /** The configured base this user asked for, or a 400: nothing else is ever contacted. */
  #allowed(endpoint: string | undefined): string {
    if (!this.configured()) throw notConfigured('Epic');
    const base = endpoint ? normalizeBase(endpoint) : undefined;
    if (!base || !this.endpoints().includes(base)) throw badRequest('Choose one of the health systems this server is set up for.', 'unknown_endpoint');
    return base;
  }

  async begin(p: { userId: string; endpoint?: string }) {
    const base = this.#allowed(p.endpoint);
    const c = await this.#discovery.get(base);
    const pkce = pkcePair();
    const flow: ConnectFlow = { state: randomUrlToken(), nonce: randomUrlToken(), verifier: pkce.verifier, userId: p.userId, endpoint: base };
    return {
      url: smartAuthorizeUrl(c, {
        clientId: this.#client.clientId,
        redirectUri: this.#redirectUri,
        fhirBase: base,
        state: flow.state,
        nonce: flow.nonce,
        codeChallenge: pkce.challenge,
      }),
      flow,
    };
  }

  async finish(code: string, flow: ConnectFlow) {
    const base = this.#allowed(flow.endpoint);
    const c = await this.#discovery.get(base);
    const t = await requestToken(
      c.token_endpoint,
      { grant_type: 'authorization_code', code, redirect_uri: this.#redirectUri, code_verifier: flow.verifier },
      this.#client,
      this.#policy,
    );
    if (canVerifyIdToken(c)) {
      if (!t.id_token) throw new OAuthError('invalid_id_token', 'Epic sent no identity token.');
      await verifyIdToken(t.id_token, { issuer: c.issuer!, audience: this.#client.clientId, nonce: flow.nonce, jwksUri: c.jwks_uri! }, this.#policy);
    }
    if (!t.patient) throw new OAuthError('provider_error', 'Epic did not say which patient was authorized.');
    return {
      grant: { refreshToken: t.refresh_token, endpoint: base, patientId: t.patient, scope: t.scope },
      access: { token: t.access_token, expiresAt: expiresAt(t.expires_in) },
    };
  }

  async refresh(grant: StoredGrant) {
    if (!grant.refreshToken) throw new ReauthRequiredError(this.label);
    const c = await this.#discovery.get(this.#allowed(grant.endpoint));
    try {
      const t = await requestToken(c.token_endpoint, { grant_type: 'refresh_token', refresh_token: grant.refreshToken }, this.#client, this.#policy);
      // Epic rotates only sometimes; keep the old refresh token when no new one comes back.
      return {
        grant: { ...grant, refreshToken: t.refresh_token ?? grant.refreshToken },
        access: { token: t.access_token, expiresAt: expiresAt(t.expires_in) },
      };
    } catch (err) {
      if (err instanceof OAuthError && (err.code === 'invalid_grant' || err.code === 'invalid_client')) throw new ReauthRequiredError(this.label);
      throw err;
    }
  }

  async revoke(grant: StoredGrant): Promise<void> {
    if (!grant.refreshToken || !grant.endpoint) return;
    const c = await this.#discovery.get(this.#allowed(grant.endpoint)).catch(() => undefined);
    if (c?.revocation_endpoint) await revokeToken(c.revocation_endpoint, grant.refreshToken, 'refresh_token', this.#client, this.#policy).catch(() => false);
  }

  async sync(grant: StoredGrant, tokens: Parameters<Connector['sync']>[1], cursor: unknown, sink: Parameters<Connector['sync']>[3]) {
    const base = this.#allowed(grant.endpoint);
    if (!grant.patientId) throw new ReauthRequiredError(this.label);
    const client = new FhirClient(base, tokens);
    try {
      const r = await syncEpic(client, { patientId: grant.patientId, cursor: typeof cursor === 'string' ? cursor : undefined }, sink);
      return { cursor: r.cursor, counts: r.counts, skipped: r.skipped };
    } catch (err) {
      if (err instanceof EpicError && err.code === 'reauth_required') throw new ReauthRequiredError(this.label);
      throw err;
    }
  }
}
