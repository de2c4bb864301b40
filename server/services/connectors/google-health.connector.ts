import { assertSafeEndpoint, newFlowSecrets } from '../../../integrations/oauth/index.js';
import { GoogleHealthError, syncGoogleHealth, type GoogleHealthCursors } from '../../../integrations/google-health/client.js';
import type { AccessTokenSource } from '../../../integrations/epic/index.js';
import type { Config } from '../../config.js';
import { notConfigured } from '../../errors.js';
import type { GoogleAuthService } from '../google-auth.service.js';
import { ReauthRequiredError, expiresAt, refreshGrant, type Connector, type ConnectFlow, type StoredGrant, type SyncSink } from './connector.js';

/**
 * Read scopes of the Google Health API v4 (Fitbit's successor). Google quirks: all are
 * "restricted" scopes needing a security review; a refresh token comes only with
 * `access_type=offline`, and again on a later consent only with `prompt=consent`.
 */
export const GOOGLE_HEALTH_SCOPES = [
  'https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly',
  'https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly',
  'https://www.googleapis.com/auth/googlehealth.sleep.readonly',
];

/** Google Health API connector through the same Google OAuth client as sign-in. */
export class GoogleHealthConnector implements Connector {
  readonly provider = 'google_health' as const;
  readonly label = 'Google Health';
  // Google's revocation ends the user's whole grant to this client, the new token included.
  readonly revokesSingleGrant = false;

  constructor(
    private readonly config: Config,
    private readonly google: GoogleAuthService,
  ) {}

  get #redirectUri() {
    return new URL('/api/integrations/google_health/callback', this.config.publicUrl).toString();
  }

  configured(): boolean {
    return this.google.configured;
  }

  endpoints(): string[] {
    return [];
  }

  async begin(p: { userId: string }) {
    if (!this.configured()) throw notConfigured('Google Health');
    const provider = await this.google.discover();
    const s = await newFlowSecrets();
    const flow: ConnectFlow = { state: s.state, nonce: s.nonce, verifier: s.verifier, userId: p.userId };
    const url = provider.authorizationUrl({
      redirect_uri: this.#redirectUri,
      scope: GOOGLE_HEALTH_SCOPES.join(' '),
      state: flow.state,
      code_challenge: s.challenge,
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
    });
    return { url, flow };
  }

  async finish(callback: URLSearchParams, flow: ConnectFlow) {
    const provider = await this.google.discover();
    const { tokens: t } = await provider.exchangeCode(callback, { redirectUri: this.#redirectUri, verifier: flow.verifier, state: flow.state });
    return { grant: { refreshToken: t.refresh_token, scope: t.scope }, access: { token: t.access_token, expiresAt: expiresAt(t.expires_in) } };
  }

  async refresh(grant: StoredGrant) {
    if (!grant.refreshToken) throw new ReauthRequiredError(this.label);
    const provider = await this.google.discover();
    return refreshGrant(provider, { ...grant, refreshToken: grant.refreshToken }, this.label);
  }

  async revoke(grant: StoredGrant): Promise<void> {
    if (!grant.refreshToken) return;
    const provider = await this.google.discover().catch(() => undefined);
    await provider?.revoke(grant.refreshToken, 'refresh_token');
  }

  async sync(_grant: StoredGrant, tokens: AccessTokenSource, cursor: unknown, sink: SyncSink, signal?: AbortSignal) {
    // The bearer token goes to GOOGLE_HEALTH_API_URL: checked like any discovered endpoint.
    await assertSafeEndpoint(this.config.GOOGLE_HEALTH_API_URL, this.google.policy);
    let cursors = (cursor && typeof cursor === 'object' ? cursor : {}) as GoogleHealthCursors;
    let token = await tokens.get();
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await syncGoogleHealth(token, cursors, sink, { baseUrl: this.config.GOOGLE_HEALTH_API_URL, signal });
        return {
          cursor: r.cursors,
          counts: r.counts,
          skipped: r.skipped as Record<string, string>,
          ...(r.incomplete.length
            ? { incomplete: `Google Health has more data than one sync reads (${r.incomplete.join(', ')}); the rest will be asked for next time.` }
            : {}),
        };
      } catch (err) {
        const advanced = (err as { cursors?: GoogleHealthCursors }).cursors;
        if (advanced) cursors = advanced;
        if (err instanceof GoogleHealthError && err.code === 'unauthorized' && attempt === 0) {
          token = await tokens.refresh(token);
          continue;
        }
        if (err instanceof GoogleHealthError && err.code === 'unauthorized') throw new ReauthRequiredError(this.label);
        throw Object.assign(err as Error, { cursor: cursors });
      }
    }
  }
}
