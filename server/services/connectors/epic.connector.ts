import { DiscoveryCache, OAuthError, newFlowSecrets, type OAuthProvider } from '../../../integrations/oauth/index.js';
import {
  EpicError,
  FhirClient,
  canVerifyIdToken,
  discoverSmart,
  normalizeBase,
  smartAuthorizeParams,
  smartProvider,
  syncEpic,
  type SmartConfiguration,
} from '../../../integrations/epic/index.js';
import type { Config } from '../../config.js';
import { badRequest, notConfigured } from '../../errors.js';
import { ReauthRequiredError, expiresAt, refreshGrant, type Connector, type ConnectFlow, type StoredGrant } from './connector.js';

/**
 * Epic, or any SMART on FHIR server listed in EPIC_FHIR_BASE_URLS: standalone patient launch,
 * confidential client when EPIC_CLIENT_SECRET is set (HTTP Basic), public client otherwise.
 * Only listed base URLs are ever contacted; their discovered endpoints are checked before use.
 */
export class EpicConnector implements Connector {
  readonly provider = 'epic' as const;
  readonly label = 'Epic';
  readonly revokesSingleGrant = true;
  readonly #discovery: DiscoveryCache<{ smart: SmartConfiguration; provider: OAuthProvider }>;

  constructor(private readonly config: Config) {
    this.#discovery = new DiscoveryCache(async (base) => {
      const smart = await discoverSmart(base, this.#policy);
      return { smart, provider: await smartProvider(smart, base, this.#client, this.#policy) };
    }, 15 * 60_000);
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
    const { smart, provider } = await this.#discovery.get(base);
    const s = await newFlowSecrets();
    const flow: ConnectFlow = { state: s.state, nonce: s.nonce, verifier: s.verifier, userId: p.userId, endpoint: base };
    const url = provider.authorizationUrl(
      smartAuthorizeParams(smart, {
        clientId: this.#client.clientId,
        redirectUri: this.#redirectUri,
        fhirBase: base,
        state: flow.state,
        nonce: flow.nonce,
        codeChallenge: s.challenge,
      }),
    );
    return { url, flow };
  }

  async finish(callback: URLSearchParams, flow: ConnectFlow) {
    const base = this.#allowed(flow.endpoint);
    const { smart, provider } = await this.#discovery.get(base);
    // The nonce was sent (and an id_token is required) only when the document lets it be verified.
    const { tokens: t } = await provider.exchangeCode(callback, {
      redirectUri: this.#redirectUri,
      verifier: flow.verifier,
      state: flow.state,
      ...(canVerifyIdToken(smart) ? { nonce: flow.nonce } : {}),
    });
    if (typeof t.patient !== 'string' || !t.patient) throw new OAuthError('provider_error', 'Epic did not say which patient was authorized.');
    return {
      grant: { refreshToken: t.refresh_token, endpoint: base, patientId: t.patient, scope: t.scope },
      access: { token: t.access_token, expiresAt: expiresAt(t.expires_in) },
    };
  }

  async refresh(grant: StoredGrant) {
    if (!grant.refreshToken) throw new ReauthRequiredError(this.label);
    const { provider } = await this.#discovery.get(this.#allowed(grant.endpoint));
    return refreshGrant(provider, { ...grant, refreshToken: grant.refreshToken }, this.label);
  }

  async revoke(grant: StoredGrant): Promise<void> {
    if (!grant.refreshToken || !grant.endpoint) return;
    const d = await this.#discovery.get(this.#allowed(grant.endpoint)).catch(() => undefined);
    await d?.provider.revoke(grant.refreshToken, 'refresh_token');
  }

  async sync(grant: StoredGrant, tokens: Parameters<Connector['sync']>[1], cursor: unknown, sink: Parameters<Connector['sync']>[3], signal?: AbortSignal) {
    const base = this.#allowed(grant.endpoint);
    if (!grant.patientId) throw new ReauthRequiredError(this.label);
    const client = new FhirClient(base, tokens, { signal });
    try {
      const r = await syncEpic(client, { patientId: grant.patientId, cursor: typeof cursor === 'string' ? cursor : undefined }, sink);
      return {
        cursor: r.cursor,
        counts: r.counts,
        skipped: r.skipped,
        ...(r.incomplete.length
          ? { incomplete: `Epic has more records than one sync reads (${r.incomplete.join(', ')}); only the first pages were imported.` }
          : {}),
      };
    } catch (err) {
      if (err instanceof EpicError && err.code === 'reauth_required') throw new ReauthRequiredError(this.label);
      throw err;
    }
  }
}
