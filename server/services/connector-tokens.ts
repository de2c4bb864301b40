import { openToken, sealToken } from '../../crypto/index.js';
import { asBuffer } from '../db/index.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import { ReauthRequiredError, type AccessToken, type Connector, type StoredGrant } from './connectors/connector.js';
import type { AccessTokenSource } from '../../integrations/epic/index.js';

/** Access tokens are used until this close to expiry, then refreshed. */
const EARLY_MS = 60_000;

/**
 * Connector tokens. Refresh tokens (with the launch context) are sealed under SERVER_KEY per user
 * and provider (`sealToken`: HKDF per user+provider, AAD binding both); access tokens live in this
 * process's memory only. A refresh runs once per user and provider at a time: concurrent callers
 * wait for it and reuse its result, and the rotated refresh token is saved with a
 * compare-and-swap on the row version, so a rotation is never lost or applied twice.
 */
export class ConnectorTokens {
  readonly #access = new Map<string, AccessToken>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly serverKey: Buffer,
  ) {}

  seal(userId: string, provider: string, grant: StoredGrant): Buffer {
    return sealToken(this.serverKey, userId, provider, JSON.stringify(grant));
  }

  /** Remembers the access token that came with a new grant. */
  remember(userId: string, provider: string, access: AccessToken): void {
    this.#access.set(`${userId}|${provider}`, access);
  }

  forget(userId: string, provider: string): void {
    this.#access.delete(`${userId}|${provider}`);
  }

  async grant(userId: string, provider: string): Promise<{ grant: StoredGrant; version: number } | null> {
    const row = await this.repo.getToken(userId, provider);
    if (!row) return null;
    return { grant: JSON.parse(openToken(this.serverKey, userId, provider, asBuffer(row.ciphertext))) as StoredGrant, version: row.version };
  }

  /** An access-token source for one user's connector, as the FHIR and Health clients take it. */
  source(userId: string, connector: Connector): AccessTokenSource {
    const key = `${userId}|${connector.provider}`;
    return {
      get: async () => {
        const a = this.#access.get(key);
        if (a && a.expiresAt - EARLY_MS > Date.now()) return a.token;
        return this.refresh(userId, connector, a?.token);
      },
      refresh: (stale) => this.refresh(userId, connector, stale),
    };
  }

  /** Refreshes once for all concurrent callers; a caller holding a stale token gets the new one. */
  refresh(userId: string, connector: Connector, stale?: string): Promise<string> {
    const key = `${userId}|${connector.provider}`;
    const current = this.#access.get(key);
    if (current && current.token !== stale && current.expiresAt - EARLY_MS > Date.now()) return Promise.resolve(current.token);
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#refresh(userId, connector).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #refresh(userId: string, connector: Connector): Promise<string> {
    const key = `${userId}|${connector.provider}`;
    for (let attempt = 0; ; attempt++) {
      const stored = await this.grant(userId, connector.provider);
      if (!stored) throw new ReauthRequiredError(connector.label);
      let r: Awaited<ReturnType<Connector['refresh']>>;
      try {
        r = await connector.refresh(stored.grant);
      } catch (err) {
        // Another API instance may have rotated the token between our read and our refresh.
        const now = err instanceof ReauthRequiredError && attempt === 0 ? await this.repo.getToken(userId, connector.provider) : undefined;
        if (now && now.version !== stored.version) continue;
        throw err;
      }
      const saved = await this.repo.swapToken(userId, connector.provider, stored.version, this.seal(userId, connector.provider, r.grant));
      // Not saved: another instance saved a rotation first; its refresh token is the one kept,
      // and the access token we just got is still good to use.
      void saved;
      this.#access.set(key, r.access);
      return r.access.token;
    }
  }
}
