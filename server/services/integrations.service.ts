import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { openToken, sealToken } from '../../crypto/index.js';
import { MAX_RETRY_AFTER_MS, OAuthError, readCallback, sameSecret } from '../../integrations/oauth/index.js';
import { EpicError } from '../../integrations/epic/index.js';
import { GoogleHealthError } from '../../integrations/google-health/client.js';
import type { QuantitySample, RecordInput } from '../../integrations/types.js';
import { asBuffer } from '../db/index.js';
import type { JobObserver } from '../metrics/jobs.js';
import { withSpan } from '../metrics/tracing.js';
import { AppError, notFound, rateLimited } from '../errors.js';
import type { AuditAction } from '../repositories/audit.repository.js';
import type { JobRow, JobsRepository } from '../repositories/jobs.repository.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';
import type { ConnectorTokens } from './connector-tokens.js';
import { PROVIDERS, ReauthRequiredError, type ConnectFlow, type Connector, type Provider, type StoredGrant } from './connectors/connector.js';
import { InboxKeyUnverifiedError, type InboxService } from './inbox.service.js';
import type { AuditRecorder } from './activity.service.js';

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
  /** Asked for by the person (POST .../sync), as opposed to the schedule or a new connection. */
  manual?: boolean;
  result?: { imported: Record<string, number>; skipped: Record<string, string> };
  error?: { code: string; message: string };
  /** A rate-limited sync: when the provider asked to be read again (ISO time), if it said. */
  retryAt?: string;
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
  /** Told when a sync ends, as job kind `sync_<provider>` (metrics). */
  observer?: JobObserver;
  /** How long a sync's claim holds without renewal; a sync whose instance died fails after it (default 30 s). */
  leaseMs: number;
  /** This instance's name in `jobs.lease_owner`. */
  instanceId: string;
  /**
   * Least time between the end of a sync the person asked for and their next request for one,
   * per user and provider (default 5 min): each full Epic sync is a dozen or more requests on
   * the deployment's one client registration, which the provider rate-limits as a whole.
   */
  manualSyncCooldownMs: number;
}

const CURSOR = (provider: string) => `${provider}.cursor`;

/** PostgreSQL's foreign_key_violation: the user row went away (account deleted) mid-request. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Connected accounts: connect (redirect + callback), sync now, disconnect, and background sync
 * on a jittered schedule. The sync path never sees a vault key: tokens come from the server key,
 * and everything fetched is sealed into the user's inbox.
 */
export class IntegrationsService {
  readonly #connectors: Map<Provider, Connector>;
  readonly #running = new Map<string, { job: SyncJob; done: Promise<void>; stop: AbortController }>();
  /** Syncs other instances hold whose ids this one handed out, by job id (see #watch). */
  readonly #watching = new Map<string, { check(): Promise<boolean>; end(): void; done: Promise<void> }>();
  #timer: NodeJS.Timeout | undefined;
  /** Set by stop(): nothing is taken over any more. */
  #stopping = false;
  readonly opts: SchedulerOptions;

  constructor(
    private readonly repo: IntegrationsRepository,
    private readonly tokens: ConnectorTokens,
    private readonly inbox: InboxService,
    private readonly audit: AuditRecorder,
    connectors: Connector[],
    private readonly serverKey: Buffer,
    private readonly log: FastifyBaseLogger,
    /** Sync jobs are rows of `jobs` (kind `sync:<provider>`), so any instance answers `GET /api/jobs/:id`. */
    private readonly jobs: JobsRepository,
    opts: Partial<SchedulerOptions> = {},
  ) {
    this.#connectors = new Map(connectors.map((c) => [c.provider, c]));
    this.opts = {
      intervalMs: 6 * 3_600_000,
      jitter: 0.2,
      tickMs: 60_000,
      concurrency: 2,
      leaseMs: 30_000,
      instanceId: randomUUID(),
      manualSyncCooldownMs: 5 * 60_000,
      ...opts,
    };
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
    // A sync may be running on another instance: its row in `jobs` says so.
    const elsewhere = new Set<string>();
    for (const r of rows) if (!this.#running.has(`${userId}|${r.provider}`) && (await this.jobs.held(userId, `sync:${r.provider}`))) elsewhere.add(r.provider);
    return rows.map((r) => {
      const running = this.#running.has(`${userId}|${r.provider}`) || elsewhere.has(r.provider);
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
    let obtained: StoredGrant | undefined;
    let stored = false;
    try {
      const { grant, access } = await c.finish(cb.params, flow);
      obtained = grant;
      const previous = await this.tokens.grant(flow.userId, c.provider).catch(() => null);
      await this.repo.upsertConnected({
        id: randomUUID(),
        userId: flow.userId,
        provider: c.provider,
        endpoint: grant.endpoint ?? null,
        token: this.tokens.seal(flow.userId, c.provider, grant),
      });
      stored = true;
      this.tokens.remember(flow.userId, c.provider, access);
      // The replaced grant would otherwise stay live at the provider, unused, until it expires.
      // Only after the new one is stored, and only where revoking one token leaves the others.
      if (previous && c.revokesSingleGrant && previous.grant.refreshToken && previous.grant.refreshToken !== grant.refreshToken) {
        await c.revoke(previous.grant).catch((err: Error) => log.warn({ err: { name: err.name }, provider: c.provider }, 'revoking the replaced grant failed'));
      }
      await this.#recordActivity('integration_connected', flow.userId, c);
      await this.startSync(flow.userId, c.provider);
      return back({ connected: '1' });
    } catch (err) {
      // The account was deleted while its owner was at the provider: a client action, not a fault.
      const accountGone = (err as { code?: string }).code === FOREIGN_KEY_VIOLATION;
      // Nothing keeps the grant just obtained (or its account is gone): give it back.
      if (obtained && (!stored || accountGone)) {
        const fresh = obtained;
        const previousLives = !accountGone && !c.revokesSingleGrant && (await this.tokens.grant(flow.userId, c.provider).catch(() => null));
        if (!previousLives) {
          await c.revoke(fresh).catch((e: Error) => log.warn({ err: { name: e.name }, provider: c.provider }, 'revoking an unused grant failed'));
        }
      }
      const code = err instanceof OAuthError ? err.code : 'connect_failed';
      if (accountGone) {
        log.warn({ code, provider: c.provider }, 'connect abandoned: the account was deleted meanwhile');
        return back({ error: code });
      }
      log.warn({ code, provider: c.provider }, 'connect refused');
      if (!(err instanceof OAuthError)) log.error({ err: safeError(err) }, 'connect failed');
      return back({ error: code });
    }
  }

  /**
   * Starts a sync unless one is running for this user and provider (on this instance or another
   * that still holds it); returns its job id.
   */
  async startSync(userId: string, provider: Provider, manual = false): Promise<string> {
    const key = `${userId}|${provider}`;
    const running = this.#running.get(key);
    if (running) return running.job.id;
    const kind = `sync:${provider}`;
    const elsewhere = await this.jobs.held(userId, kind);
    if (elsewhere) {
      this.#watch(elsewhere.id, userId, provider, manual);
      return elsewhere.id;
    }
    const again = this.#running.get(key);
    if (again) return again.job.id;
    const job: SyncJob = { id: randomUUID(), userId, provider, status: 'running', startedAt: new Date().toISOString(), ...(manual ? { manual } : {}) };
    const entry = { job, done: Promise.resolve(), stop: new AbortController() };
    this.#running.set(key, entry);
    try {
      await this.#insertJob(job.id, userId, kind);
    } catch (err) {
      this.#running.delete(key);
      if ((err as { code?: string }).code !== '23505') throw err;
      // Another instance started this sync a moment ago (one active sync per user and provider).
      const other = await this.jobs.active(userId, kind);
      if (other) return other.id;
      throw err;
    }
    this.#launch(entry);
    return job.id;
  }

  #launch(entry: { job: SyncJob; done: Promise<void>; stop: AbortController }): void {
    const key = `${entry.job.userId}|${entry.job.provider}`;
    this.#running.set(key, entry);
    entry.done = this.#held(entry.job, entry.stop.signal).finally(() => this.#running.delete(key));
  }

  /**
   * Keeps a job id handed out for a sync another instance holds live. That instance may be one
   * that has just died (a restart, a crash: its lease still runs for up to JOB_LEASE_S); its
   * lease then runs out unrenewed, and this instance claims the job (one conditional UPDATE, so
   * of several watchers one wins) and runs it under the same id, instead of the id ending
   * "server restarted" with nothing run. A live holder renews its lease and finishes the job.
   */
  #watch(id: string, userId: string, provider: Provider, manual: boolean): void {
    if (this.#watching.has(id)) return;
    let busy: Promise<boolean> | null = null;
    const check = () => (busy ??= this.#adopt(id, userId, provider, manual).finally(() => (busy = null)));
    let timer: NodeJS.Timeout | undefined;
    let end = () => {};
    const done = new Promise<void>((resolve) => {
      end = () => {
        clearInterval(timer);
        this.#watching.delete(id);
        resolve();
      };
    });
    timer = setInterval(
      () =>
        void check().then(
          (over) => over && end(),
          (err: Error) => {
            this.log.warn({ err: { name: err.name }, provider }, 'watching a sync held elsewhere failed');
            end();
          },
        ),
      Math.min(1_000, this.opts.leaseMs / 3),
    );
    timer.unref();
    this.#watching.set(id, { check, end, done });
  }

  /** True when nothing is left to watch: the job ended, or this instance now runs it. */
  async #adopt(id: string, userId: string, provider: Provider, manual: boolean): Promise<boolean> {
    if (this.#stopping) return true;
    const row = await this.jobs.getById(id);
    if (!row || (row.status !== 'running' && row.status !== 'queued') || row.lease_owner === this.opts.instanceId) return true;
    if (!(await this.jobs.claim(id, this.opts.instanceId, this.opts.leaseMs))) return false;
    if (this.#stopping) {
      // Claimed as this instance began to stop: give it straight back for another to take.
      await this.jobs.release(id, this.opts.instanceId);
      return true;
    }
    this.log.warn({ provider }, 'took over a sync its stopped instance left running');
    const job: SyncJob = { id, userId, provider, status: 'running', startedAt: new Date().toISOString(), ...(manual ? { manual } : {}) };
    this.#launch({ job, done: Promise.resolve(), stop: new AbortController() });
    return true;
  }

  /** Inserts the sync's row; a row left by an instance that died is failed first, then the insert retried once. */
  async #insertJob(id: string, userId: string, kind: string): Promise<void> {
    const insert = () => this.jobs.insertHeld({ id, userId, kind, owner: this.opts.instanceId, leaseMs: this.opts.leaseMs });
    try {
      await insert();
    } catch (err) {
      if ((err as { code?: string }).code !== '23505' || !(await this.jobs.failAbandoned('sync:', 'server_restarted'))) throw err;
      await insert();
    }
  }

  async requestSync(userId: string, provider: string): Promise<string> {
    const c = this.connector(provider);
    const row = await this.repo.get(userId, c.provider);
    if (!row) throw notFound('Integration');
    if (row.status === 'reauth_required') throw new AppError(409, 'reauth_required', row.error ?? new ReauthRequiredError(c.label).message);
    const running = this.#running.get(`${userId}|${c.provider}`) ?? (await this.jobs.held(userId, `sync:${c.provider}`));
    if (!running) {
      // The provider would refuse a sync before the time it gave: say that time instead.
      const limitedUntil = row.error_code === 'rate_limited' ? await this.#rateLimitedUntil(userId, c.provider) : null;
      const wait = await this.#cooldownLeft(userId, c.provider);
      if (limitedUntil && limitedUntil.getTime() - Date.now() >= wait) {
        throw rateLimited((limitedUntil.getTime() - Date.now()) / 1000, rateLimitedOutcome(c.label, limitedUntil).message);
      }
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        throw rateLimited(
          wait / 1000,
          `${c.label} was synced a moment ago. You can sync again in ${minutes === 1 ? 'a minute' : `${minutes} minutes`}; new records are also fetched automatically.`,
        );
      }
    }
    return this.startSync(userId, c.provider, true);
  }

  /**
   * When the provider asked to be read again, if the last sync ended rate-limited and that time
   * is still ahead; read from that sync's sealed outcome, so every instance answers alike.
   */
  async #rateLimitedUntil(userId: string, provider: Provider): Promise<Date | null> {
    const now = Date.now();
    // A retry time is never further out than MAX_RETRY_AFTER_MS from the sync that got it.
    const [last] = await this.jobs.finishedSince(userId, `sync:${provider}`, new Date(now - MAX_RETRY_AFTER_MS), 1);
    if (!last?.sealed) return null;
    let outcome: SyncOutcome;
    try {
      outcome = JSON.parse(openToken(this.serverKey, last.user_id, OUTCOME(last.id), asBuffer(last.sealed))) as SyncOutcome;
    } catch {
      return null;
    }
    const at = outcome.error?.code === 'rate_limited' && outcome.retryAt ? Date.parse(outcome.retryAt) : NaN;
    return Number.isFinite(at) && at > now ? new Date(Math.min(at, now + MAX_RETRY_AFTER_MS)) : null;
  }

  /**
   * Milliseconds until this person may ask for another sync: counted from the end of the last
   * sync they asked for, on any instance (its sealed outcome says it was theirs). Syncs started
   * by the schedule or by connecting do not count, so "Sync now" right after them still works.
   */
  async #cooldownLeft(userId: string, provider: Provider): Promise<number> {
    const cooldown = this.opts.manualSyncCooldownMs;
    if (cooldown <= 0) return 0;
    const recent = await this.jobs.finishedSince(userId, `sync:${provider}`, new Date(Date.now() - cooldown), 20);
    for (const r of recent) {
      if (!r.sealed || !r.finished_at) continue;
      let outcome: SyncOutcome;
      try {
        outcome = JSON.parse(openToken(this.serverKey, r.user_id, OUTCOME(r.id), asBuffer(r.sealed))) as SyncOutcome;
      } catch {
        continue;
      }
      if (outcome.manual) return new Date(r.finished_at).getTime() + cooldown - Date.now();
    }
    return 0;
  }

  /**
   * A `sync:*` row read back. Its outcome is sealed under the server key (the sync never holds
   * the owner's vault key); the clear `error_code` says which failure it was.
   */
  syncView(row: JobRow): SyncJob {
    const provider = row.kind.slice('sync:'.length) as Provider;
    const status = row.status === 'queued' ? 'running' : row.status;
    const job: SyncJob = { id: row.id, userId: row.user_id, provider, status, startedAt: new Date(row.started_at ?? row.created_at).toISOString() };
    const outcome = row.sealed ? (JSON.parse(openToken(this.serverKey, row.user_id, OUTCOME(row.id), asBuffer(row.sealed))) as SyncOutcome) : {};
    if (outcome.result) job.result = outcome.result;
    if (status === 'failed') {
      job.error = outcome.error ?? {
        code: row.error_code ?? 'sync_failed',
        message: row.error_code === 'server_restarted' ? 'The server running this sync stopped. The next sync will try again.' : 'The sync failed.',
      };
    }
    return job;
  }

  /** Runs a sync, renewing its claim while it runs, and records the outcome in its row. */
  async #held(job: SyncJob, signal: AbortSignal): Promise<void> {
    const renew = setInterval(() => {
      this.jobs
        .renew(job.id, this.opts.instanceId, this.opts.leaseMs)
        .catch((err: Error) => this.log.warn({ err: { name: err.name } }, 'sync lease renewal failed'));
    }, this.opts.leaseMs / 3);
    renew.unref();
    try {
      await this.#run(job, signal);
    } finally {
      clearInterval(renew);
    }
    const outcome: SyncOutcome = {
      ...(job.result ? { result: job.result } : {}),
      ...(job.error ? { error: job.error } : {}),
      ...(job.manual ? { manual: true } : {}),
      ...(job.retryAt ? { retryAt: job.retryAt } : {}),
    };
    await this.jobs
      .finish(job.id, {
        status: job.status === 'done' ? 'done' : 'failed',
        progress: { done: 1, total: 1, unit: 'syncs' },
        sealed: sealToken(this.serverKey, job.userId, OUTCOME(job.id), JSON.stringify(outcome)),
        errorCode: job.error?.code ?? null,
        owner: this.opts.instanceId,
      })
      .catch((err: Error) => this.log.error({ err: { name: err.name } }, 'could not record a sync outcome'));
  }

  /** Resolves when every running sync has finished (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#running.size || this.#watching.size) {
      await Promise.allSettled([...this.#running.values(), ...this.#watching.values()].map((r) => r.done));
    }
  }

  async #run(job: SyncJob, signal: AbortSignal): Promise<void> {
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
    // Nothing is stored once the owner has disconnected, here or on another instance: the sync
    // stops with the next batch it would have written.
    const stillConnected = async () => {
      signal.throwIfAborted();
      if (!(await this.repo.get(userId, provider))) throw new Error('disconnected mid-sync');
    };
    const sink = {
      records: async (batch: RecordInput[]) => {
        await stillConnected();
        return this.inbox.deposit(userId, provider, { records: batch });
      },
      samples: async (batch: QuantitySample[]) => {
        await stillConnected();
        return this.inbox.deposit(userId, provider, { samples: batch });
      },
    };
    const started = performance.now();
    const finished = (outcome: 'done' | 'failed', records = 0) =>
      this.opts.observer?.finished(`sync_${provider}`, outcome, (performance.now() - started) / 1000, records);
    try {
      if (!stored) throw new ReauthRequiredError(c.label);
      const r = await withSpan(`sync ${provider}`, { 'cv.sync.provider': provider, 'cv.job.id': job.id }, () =>
        c.sync(stored.grant, this.tokens.source(userId, c), cursor, sink, signal),
      );
      // A sync cut short still ends done (what it read is in the vault), but the Connections
      // page shows the integration's error, so the person learns part was not read.
      await this.repo.setStatus(userId, provider, {
        status: 'connected',
        errorCode: r.incomplete ? 'incomplete' : null,
        error: r.incomplete ?? null,
        lastSyncAt: new Date(),
        nextSyncAt: this.#next(),
        cursor: sealToken(this.serverKey, userId, CURSOR(provider), JSON.stringify(r.cursor ?? null)),
      });
      job.status = 'done';
      job.result = { imported: r.counts, skipped: r.skipped };
      finished(
        'done',
        Object.values(r.counts).reduce((a, b) => a + b, 0),
      );
    } catch (err) {
      finished('failed');
      // Disconnected by its owner mid-sync: the grant was revoked and deleted on purpose, so the
      // refresh that then fails is not "sign in again". Nothing is left to mark.
      if (signal.aborted || !(await this.repo.get(userId, provider).catch(() => row))) {
        job.status = 'failed';
        job.error = {
          code: 'disconnected',
          message: `${c.label} was disconnected while this sync ran, so it stopped. Records it had already fetched stay in your vault.`,
        };
        this.log.info({ provider }, 'sync stopped: disconnected');
        return;
      }
      const e = classify(err, c.label);
      job.status = 'failed';
      job.error = { code: e.code, message: e.message };
      if (e.retryAt) job.retryAt = e.retryAt.toISOString();
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
        nextSyncAt: e.code === 'reauth_required' ? null : this.#retryAt(e),
        ...(advanced ? { cursor: sealToken(this.serverKey, userId, CURSOR(provider), JSON.stringify(advanced)) } : {}),
      });
      if (e.code === 'sync_failed') this.log.error({ err: safeError(err), provider }, 'sync failed');
      else this.log.warn({ code: e.code, provider }, 'sync stopped');
    }
    // The owner's activity shows each sync; a failed audit write does not undo the sync's outcome.
    await this.#recordActivity(job.status === 'done' ? 'integration_synced' : 'integration_sync_failed', userId, c, row.id).catch((err: unknown) =>
      this.log.warn({ err: { name: (err as Error).name } }, 'sync audit failed'),
    );
  }

  /** After a failed sync: a rate limit waits at least as long as the provider asked. */
  #retryAt(e: { code: string; retryAt?: Date }): Date {
    if (e.code !== 'rate_limited') return new Date(Date.now() + this.opts.intervalMs / 4);
    return new Date(Math.max(Date.now() + RATE_LIMITED_RETRY_MS, e.retryAt?.getTime() ?? 0));
  }

  #next(): Date {
    const j = this.opts.intervalMs * this.opts.jitter * (Math.random() * 2 - 1);
    return new Date(Date.now() + this.opts.intervalMs + j);
  }

  /** Disconnect: revoke at the provider where it offers revocation, then delete token and integration. */
  async disconnect(userId: string, provider: string, requestId?: string): Promise<void> {
    const c = this.connector(provider);
    // A sync running here stops now; one on another instance stops at its next write (see #run).
    this.#running.get(`${userId}|${c.provider}`)?.stop.abort(new Error('disconnected'));
    const stored = await this.tokens.grant(userId, c.provider).catch(() => null);
    if (stored) await c.revoke(stored.grant).catch(() => {});
    this.tokens.forget(userId, c.provider);
    const row = await this.repo.get(userId, c.provider);
    if (!row || !(await this.repo.delete(userId, c.provider))) throw notFound('Integration');
    await this.#recordActivity('integration_disconnected', userId, c, row.id, requestId);
  }

  /**
   * An activity entry that names its connection (provider and the connection's id, nothing
   * personal). `id` is looked up when not given: connecting again keeps the row's first id.
   */
  async #recordActivity(action: AuditAction, userId: string, c: Connector, id?: string, requestId?: string): Promise<void> {
    const connectionId = id ?? (await this.repo.get(userId, c.provider))?.id;
    const about = connectionId ? { connection: { provider: c.provider, label: c.label, id: connectionId } } : undefined;
    await this.audit.record(action, userId, requestId, undefined, about);
  }

  // ---- scheduler ----

  start(): void {
    if (this.#timer) return;
    const loop = () => {
      // Jittered ticks, so instances started together do not poll in step.
      this.#timer = setTimeout(
        () => {
          this.tick()
            .catch((err: unknown) => this.log.error({ err: safeError(err) }, 'sync scheduler tick failed'))
            .finally(() => {
              if (this.#timer) loop();
            });
        },
        this.opts.tickMs * (0.8 + Math.random() * 0.4),
      );
      this.#timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopping = true;
    // A sync held elsewhere is that instance's (or, if it died, the next watcher's) to finish.
    for (const w of [...this.#watching.values()]) w.end();
    await this.whenIdle();
  }

  /**
   * Starts the due syncs this instance has room for. The claim and the move of each one's next
   * sync happen in one statement, so instances ticking at once never start the same sync twice.
   */
  async tick(now = new Date()): Promise<number> {
    // Watched syncs are taken over before they would be failed as abandoned below.
    for (const w of [...this.#watching.values()]) if (await w.check().catch(() => true)) w.end();
    const abandoned = await this.jobs.failAbandoned('sync:', 'server_restarted');
    if (abandoned) this.log.warn({ syncs: abandoned }, 'syncs of a stopped instance marked failed');
    const room = this.opts.concurrency - this.#running.size;
    if (room <= 0) return 0;
    const due = await this.repo.claimDue(now, room, this.opts.intervalMs, this.opts.jitter);
    for (const d of due) await this.startSync(d.user_id, d.provider as Provider);
    return due.length;
  }
}

interface SyncOutcome {
  result?: SyncJob['result'];
  error?: SyncJob['error'];
  /** The person asked for this sync (the manual-sync cooldown counts from it). */
  manual?: boolean;
  /** Rate-limited: when the provider asked to be read again ("Sync now" is refused until then). */
  retryAt?: string;
}

/** The label a sync job's outcome is sealed under (server key, per user and job). */
const OUTCOME = (jobId: string) => `job:${jobId}`;

/** Least time before the next sync after a provider rate-limited one. */
const RATE_LIMITED_RETRY_MS = 30 * 60_000;

/** A provider's "try again after": to the minute, rounded up, in UTC ("2026-12-07 17:43 UTC"). */
const retryTime = (at: Date) => `${new Date(Math.ceil(at.getTime() / 60_000) * 60_000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The rate-limited outcome: when the provider said how long to wait, the person reads until when. */
function rateLimitedOutcome(label: string, retryAt: Date | undefined): { code: string; message: string; retryAt?: Date } {
  if (!retryAt) return { code: 'rate_limited', message: `${label} is limiting how often this app may read. The next sync will try again.` };
  return {
    code: 'rate_limited',
    message: `${label} is limiting how often this app may read: try again after ${retryTime(retryAt)}. The next sync waits until then.`,
    retryAt,
  };
}

/** An error as a code and a sentence a person can act on; never a token, code or URL query. */
function classify(err: unknown, label: string): { code: string; message: string; retryAt?: Date } {
  if (err instanceof ReauthRequiredError) return { code: 'reauth_required', message: err.message };
  if (err instanceof InboxKeyUnverifiedError) return { code: 'inbox_key_unverified', message: err.message };
  if (err instanceof EpicError) {
    if (err.code === 'rate_limited') return rateLimitedOutcome(label, err.retryAt);
    // The provider's fault (an error status, an unreadable or oversized answer): warn-level, and
    // the message (ours, never the provider's body) tells the person what happened.
    return { code: err.code === 'network' ? 'unreachable' : 'provider_error', message: err.message };
  }
  if (err instanceof GoogleHealthError) {
    if (err.code === 'rate_limited') return rateLimitedOutcome(label, err.retryAt);
    if (err.code === 'gone') return { code: 'gone', message: err.message };
    return { code: err.code === 'network' ? 'unreachable' : err.code === 'aborted' ? 'sync_failed' : 'provider_error', message: err.message };
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
