import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { openToken, sealToken } from '../../crypto/index.js';
import { OAuthError, readCallback, sameSecret } from '../../integrations/oauth/index.js';
import { EpicError } from '../../integrations/epic/index.js';
import { GoogleHealthError } from '../../integrations/google-health/client.js';
import type { QuantitySample, RecordInput } from '../../integrations/types.js';
import { asBuffer } from '../db/index.js';
import { AppError, notFound } from '../errors.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import type { ConnectorTokens } from './connector-tokens.js';
import { PROVIDERS, ReauthRequiredError, type ConnectFlow, type Connector, type Provider } from './connectors/connector.js';
import { InboxKeyUnverifiedError, type InboxService } from './inbox.service.js';

export type IntegrationStatus = 'connected' | 'syncing' | 'error' | 'reauth_required';

export interface IntegrationView {
  provider: Provider;
  status: IntegrationStatus;
  endpoint: string | null;
  lastSyncAt: string | null;
  error?: { code: string; message: string };
}

export interface SyncJob {
  id: string;
  userId: string;
  provider: Provider;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  result?: { imported: Record<string, number>; skipped: Record<string, string> };
  error?: { code: string; message: string };
}

export interface SchedulerOptions {
  /** Time between syncs of one integration (default 6 h). */
  intervalMs: number;
  /** +/- this fraction of the interval, so many users' syncs do not align (default 0.2). */
  jitter: number;
  /** How often the scheduler looks for due integrations (default 60 s). */
  tickMs: number;
  /** Syncs run at once by this instance (default 2). */
  concurrency: number;
}

const CURSOR = (provider: string) => `${provider}.cursor`;

/**
 * Connected accounts: connect (redirect + callback), sync now, disconnect, and background sync
 * on a jittered schedule. The sync path never sees a vault key: tokens come from the server key,
 * and everything fetched is sealed into the user's inbox.
 */
export class IntegrationsService {
  readonly #connectors: Map<Provider, Connector>;
  readonly #jobs = new Map<string, SyncJob>();
  readonly #running = new Map<string, { job: SyncJob; done: Promise<void> }>();
  #timer: NodeJS.Timeout | undefined;
  readonly opts: SchedulerOptions;

  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly tokens: ConnectorTokens,
    private readonly inbox: InboxService,
    private readonly audit: AuditRepository,
    connectors: Connector[],
    private readonly serverKey: Buffer,
    private readonly log: FastifyBaseLogger,
    opts: Partial<SchedulerOptions> = {},
  ) {
    this.#connectors = new Map(connectors.map((c) => [c.provider, c]));
    this.opts = { intervalMs: 6 * 3_600_000, jitter: 0.2, tickMs: 60_000, concurrency: 2, ...opts };
  }

  connector(provider: string): Connector {
    const c = PROVIDERS.includes(provider as Provider) ? this.#connectors.get(provider as Provider) : undefined;
    if (!c) throw notFound('Provider');
    return c;
  }

  /** Providers this server offers, for the Connections page. */
  available() {
    return [...this.#connectors.values()].map((c) => ({ provider: c.provider, label: c.label, configured: c.configured(), endpoints: c.endpoints() }));
  }

  async list(userId: string): Promise<IntegrationView[]> {
    const rows = await this.repo.list(userId);
    return rows.map((r) => {
      const running = this.#running.has(`${userId}|${r.provider}`);
      const v: IntegrationView = {
        provider: r.provider as Provider,
        status: running ? 'syncing' : (r.status as IntegrationStatus),
        endpoint: r.endpoint,
        lastSyncAt: r.last_sync_at ? new Date(r.last_sync_at).toISOString() : null,
      };
      if (r.error && !running) v.error = { code: r.error_code ?? 'sync_failed', message: r.error };
      return v;
    });
  }

  async begin(userId: string, provider: string, endpoint?: string) {
    try {
      return await this.connector(provider).begin({ userId, endpoint });
    } catch (err) {
      // Discovery failed or pointed somewhere refused: say so before any redirect happens.
      if (err instanceof OAuthError) throw new AppError(502, err.code, err.message);
      throw err;
    }
  }

  /** The access-token source the sync uses (tests drive concurrent refreshes through it). */
  tokenSource(userId: string, provider: string) {
    return this.tokens.source(userId, this.connector(provider));
  }

  /**
   * Completes a connect redirect. Runs without a session: the browser's sealed flow cookie says
   * who started it (the session cookie is SameSite=Strict and does not come back on the
   * provider's cross-site redirect). Returns where to send the browser.
   */
  async complete(provider: string, query: Record<string, unknown>, flow: ConnectFlow | null, log: FastifyBaseLogger): Promise<string> {
    const c = this.connector(provider);
    const back = (params: Record<string, string>) => `/connections?${new URLSearchParams({ provider: c.provider, ...params }).toString()}`;
    const cb = readCallback(query);
    if (!flow || !sameSecret(cb.state, flow.state)) return back({ error: 'state_mismatch' });
    if ('error' in cb) return back({ error: cb.error === 'access_denied' ? 'access_denied' : 'provider_error' });
    try {
      const { grant, access } = await c.finish(cb.code, flow);
      await this.repo.upsertConnected({
        id: randomUUID(),
        userId: flow.userId,
        provider: c.provider,
        endpoint: grant.endpoint ?? null,
        token: this.tokens.seal(flow.userId, c.provider, grant),
      });
      this.tokens.remember(flow.userId, c.provider, access);
      await this.audit.record('integration_connected', flow.userId);
      this.startSync(flow.userId, c.provider);
      return back({ connected: '1' });
    } catch (err) {
      const code = err instanceof OAuthError ? err.code : 'connect_failed';
      log.warn({ code, provider: c.provider }, 'connect refused');
      if (!(err instanceof OAuthError)) log.error({ err: safeError(err) }, 'connect failed');
      return back({ error: code });
    }
  }

  /** Starts a sync unless one is running for this user and provider; returns its job id. */
  startSync(userId: string, provider: Provider): string {
    const key = `${userId}|${provider}`;
    const running = this.#running.get(key);
    if (running) return running.job.id;
    const job: SyncJob = { id: randomUUID(), userId, provider, status: 'running', startedAt: new Date().toISOString() };
    this.#jobs.set(job.id, job);
    if (this.#jobs.size > 10_000) this.#jobs.delete(this.#jobs.keys().next().value!);
    const done = this.#run(job).finally(() => this.#running.delete(key));
    this.#running.set(key, { job, done });
    return job.id;
  }

  async requestSync(userId: string, provider: string): Promise<string> {
    const c = this.connector(provider);
    const row = await this.repo.get(userId, c.provider);
    if (!row) throw notFound('Integration');
    if (row.status === 'reauth_required') throw new AppError(409, 'reauth_required', row.error ?? new ReauthRequiredError(c.label).message);
    return this.startSync(userId, c.provider);
  }

  job(userId: string, id: string): SyncJob | undefined {
    const j = this.#jobs.get(id);
    return j && j.userId === userId ? j : undefined;
  }

  /** Resolves when every running sync has finished (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#running.size) await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  async #run(job: SyncJob): Promise<void> {
    const { userId, provider } = job;
    const c = this.connector(provider);
    const row = await this.repo.get(userId, provider);
    if (!row) {
      job.status = 'failed';
      job.error = { code: 'not_found', message: 'This integration is no longer connected.' };
      return;
    }
    const stored = await this.tokens.grant(userId, provider);
    const cursor = row.cursor ? JSON.parse(openToken(this.serverKey, userId, CURSOR(provider), asBuffer(row.cursor))) : undefined;
    const sink = {
      records: (batch: RecordInput[]) => this.inbox.deposit(userId, provider, { records: batch }),
      samples: (batch: QuantitySample[]) => this.inbox.deposit(userId, provider, { samples: batch }),
    };
    try {
      if (!stored) throw new ReauthRequiredError(c.label);
      const r = await c.sync(stored.grant, this.tokens.source(userId, c), cursor, sink);
      await this.repo.setStatus(userId, provider, {
        status: 'connected',
        errorCode: null,
        error: null,
        lastSyncAt: new Date(),
        nextSyncAt: this.#next(),
        cursor: sealToken(this.serverKey, userId, CURSOR(provider), JSON.stringify(r.cursor ?? null)),
      });
      job.status = 'done';
      job.result = { imported: r.counts, skipped: r.skipped };
    } catch (err) {
      const e = classify(err, c.label);
      job.status = 'failed';
      job.error = { code: e.code, message: e.message };
      if (e.code === 'reauth_required') {
        // The grant is dead: drop it so nothing keeps trying it.
        this.tokens.forget(userId, provider);
        await this.repo.deleteToken(userId, provider);
      }
      const advanced = (err as { cursor?: unknown }).cursor;
      await this.repo.setStatus(userId, provider, {
        status: e.code === 'reauth_required' ? 'reauth_required' : 'error',
        errorCode: e.code,
        error: e.message,
        nextSyncAt: e.code === 'reauth_required' ? null : new Date(Date.now() + (e.code === 'rate_limited' ? 30 * 60_000 : this.opts.intervalMs / 4)),
        ...(advanced ? { cursor: sealToken(this.serverKey, userId, CURSOR(provider), JSON.stringify(advanced)) } : {}),
      });
      if (e.code === 'sync_failed') this.log.error({ err: safeError(err), provider }, 'sync failed');
      else this.log.warn({ code: e.code, provider }, 'sync stopped');
    }
    // The owner's activity shows each sync; a failed audit write does not undo the sync's outcome.
    await this.audit
      .record(job.status === 'done' ? 'integration_synced' : 'integration_sync_failed', userId)
      .catch((err: unknown) => this.log.warn({ err: { name: (err as Error).name } }, 'sync audit failed'));
  }

  #next(): Date {
    const j = this.opts.intervalMs * this.opts.jitter * (Math.random() * 2 - 1);
    return new Date(Date.now() + this.opts.intervalMs + j);
  }

  /** Disconnect: revoke at the provider where it offers revocation, then delete token and integration. */
  async disconnect(userId: string, provider: string, requestId?: string): Promise<void> {
    const c = this.connector(provider);
    const stored = await this.tokens.grant(userId, c.provider).catch(() => null);
    if (stored) await c.revoke(stored.grant).catch(() => {});
    this.tokens.forget(userId, c.provider);
    if (!(await this.repo.delete(userId, c.provider))) throw notFound('Integration');
    await this.audit.record('integration_disconnected', userId, requestId);
  }

  // ---- scheduler ----

  start(): void {
    if (this.#timer) return;
    const loop = () => {
      // Jittered ticks, so instances started together do not poll in step.
      this.#timer = setTimeout(() => {
        this.tick().catch((err: unknown) => this.log.error({ err: safeError(err) }, 'sync scheduler tick failed')).finally(() => {
          if (this.#timer) loop();
        });
      }, this.opts.tickMs * (0.8 + Math.random() * 0.4));
      this.#timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.whenIdle();
  }

  /** Starts the due syncs this instance has room for. */
  async tick(now = new Date()): Promise<number> {
    const room = this.opts.concurrency - this.#running.size;
    if (room <= 0) return 0;
    const due = await this.repo.due(now, room);
    for (const d of due) {
      // Claim it for one interval before starting, so the next tick does not pick it up again.
      await this.repo.setStatus(d.user_id, d.provider, { status: 'connected', nextSyncAt: this.#next() });
      this.startSync(d.user_id, d.provider as Provider);
    }
    return due.length;
  }
}

/** An error as a code and a sentence a person can act on; never a token, code or URL query. */
function classify(err: unknown, label: string): { code: string; message: string } {
  if (err instanceof ReauthRequiredError) return { code: 'reauth_required', message: err.message };
  if (err instanceof InboxKeyUnverifiedError) return { code: 'inbox_key_unverified', message: err.message };
  if (err instanceof EpicError) {
    if (err.code === 'rate_limited') return { code: 'rate_limited', message: `${label} is limiting how often this app may read. The next sync will try again.` };
    return { code: err.code === 'network' ? 'unreachable' : 'sync_failed', message: err.message };
  }
  if (err instanceof GoogleHealthError) {
    if (err.code === 'rate_limited') return { code: 'rate_limited', message: `${label} is limiting how often this app may read. The next sync will try again.` };
    if (err.code === 'gone') return { code: 'gone', message: err.message };
    return { code: err.code === 'network' ? 'unreachable' : 'sync_failed', message: err.message };
  }
  if (err instanceof OAuthError) {
    if (err.code === 'rate_limited') return { code: 'rate_limited', message: `${label} is limiting sign-in requests. The next sync will try again.` };
    if (err.code === 'unsafe_endpoint') return { code: 'unsafe_endpoint', message: err.message };
    return { code: 'unreachable', message: `${label} could not be reached: ${err.message}` };
  }
  return { code: 'sync_failed', message: `The ${label} sync failed. It will be tried again later.` };
}

/** Logs an error's type and message only: some libraries put request bodies on errors. */
function safeError(err: unknown) {
  return err instanceof Error ? { type: err.name, message: err.message.slice(0, 300) } : { type: typeof err };
}

