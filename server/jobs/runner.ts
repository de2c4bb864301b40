import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { jobOutcome } from '../codec/index.js';
import type { ImportProgress } from '../../integrations/types.js';
import type { JobWarning } from '../../contract/jobs.js';
import type { JobRow, JobsRepository } from '../repositories/jobs.repository.js';
import type { KeyRing, SessionContext } from '../services/keyring.js';
import type { ImportFiles } from './encrypted-file.js';
import type { JobObserver } from '../metrics/jobs.js';
import { cachedReader } from '../metrics/cached.js';
import { withSpan } from '../metrics/tracing.js';

/** A failure whose message is written for the person who started the job and holds no content. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    message: string,
    /** For logs and programs ('time_budget'...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface JobContext {
  readonly job: JobRow;
  /** The owner's keys, held in memory only while the job runs. */
  readonly session: SessionContext;
  readonly signal: AbortSignal;
  /** Latest progress; written to the database at most every `progressMs`. */
  progress(p: ImportProgress): void;
  /** Adds to `result.imported[type]` (what was new; re-imported data counts nothing). */
  count(type: string, n: number): void;
  /**
   * Adds to `result.warnings`, sealed with the counts. One per code: a later one replaces it (a
   * resumed run that warns again does not double its count). Fixed sentences only, never the
   * input's words: see {@link JobWarning}.
   */
  warn(warning: JobWarning): void;
}

/** Warnings kept per job; an importer has a handful of fixed ones. */
const MAX_WARNINGS = 20;

export interface JobKind {
  run(ctx: JobContext): Promise<void>;
  /**
   * The message stored for a failure, or undefined for a server fault (then a generic message
   * is stored and the error's stack, without its message, is logged).
   */
  describe?(err: unknown): string | undefined;
}

export interface RunnerOptions {
  maxConcurrent: number;
  perUser: number;
  progressMs: number;
  /** Runs of one job before an interruption counts as final. */
  maxAttempts: number;
  /** How long an interrupted job waits for its owner to sign in again. */
  resumeWithinMs: number;
  /**
   * Wall time a job with an input file may run: `baseMs` plus `msPerMB` per MB of input. A file
   * crafted to cost far more work than its size (decompression, re-parsing) then stops with a
   * clear message instead of holding one of the few job slots for hours. Default 300 s + 2 s/MB.
   */
  budget?: { baseMs: number; msPerMB: number };
  /** Told when a job starts and ends (metrics). */
  observer?: JobObserver;
  /**
   * How long a claim on a job holds without a heartbeat (default 30 s). Another instance may
   * resume a job only after its lease ran out, so this is how long a job of a dead instance waits.
   */
  leaseMs?: number;
  /** This instance's name in `jobs.lease_owner` (default: a random id per process). */
  instanceId?: string;
  /**
   * Other instances share the database and file store: input files of uploads still arriving
   * (no job row yet) are kept this long at start-up instead of swept at once (default 0).
   */
  sweepGraceMs?: number;
}

/**
 * The clear `jobs.error_code`s and what each tells the owner. A message that may quote the
 * input (an archive entry name, a parser's complaint) is sealed with the outcome instead, under
 * the code `failed`.
 */
export const JOB_ERRORS = {
  failed: 'The import could not be completed.',
  server_fault: 'The import stopped because of an error on the server. Import the file again: nothing already imported will be duplicated.',
  server_restarted: 'The server restarted during this import. Import the file again: nothing already imported will be duplicated.',
  unsupported: 'This kind of job is not supported by this server.',
} as const;
export type JobErrorCode = keyof typeof JOB_ERRORS;
export const RESTART_REASON = JOB_ERRORS.server_restarted;

const UNHELD_CACHE_MS = 15_000;

interface Entry {
  id: string;
  userId: string;
  keys: KeyRing;
  /** performance.now() when queued, for the queue-wait metric. */
  queuedAt?: number;
}

/**
 * Runs jobs from the `jobs` table, a few at a time (per user and overall). A job encrypts with
 * its owner's vault key, which exists only in a signed-in request, so the key ring is handed
 * over when the job is submitted and dropped when it ends; keys are never stored for later.
 *
 * Several instances may share the table. Before running a job an instance claims it with a lease
 * (`lease_owner`, `lease_until`) in one conditional UPDATE, so exactly one instance runs it; the
 * lease is renewed with each heartbeat, and a run whose renewal finds the lease gone stops. A job
 * whose instance died or stopped stays claimable once its lease ends, and is resumed (from the
 * start: every write is idempotent) by whichever instance next sees a signed-in request of its
 * owner; if that never comes, or the same job was interrupted too often, it fails with the reason.
 */
export class JobRunner {
  readonly #kinds = new Map<string, JobKind>();
  readonly #queue: Entry[] = [];
  readonly #running = new Map<string, { userId: string; abort: AbortController; done: Promise<void> }>();
  /** A count over the shared jobs table: read at most every 15 s, however often /metrics is scraped. */
  readonly #unheld = cachedReader(() => this.repo.countUnheld(), UNHELD_CACHE_MS);
  /** When each owner's unheld jobs were last looked for (one query per owner per second at most). */
  readonly #looked = new Map<string, number>();
  #closing = false;
  readonly #owner: string;
  readonly #leaseMs: number;

  constructor(
    private readonly repo: JobsRepository,
    private readonly files: ImportFiles,
    private readonly log: FastifyBaseLogger,
    private readonly opts: RunnerOptions,
  ) {
    this.#owner = opts.instanceId ?? randomUUID();
    this.#leaseMs = opts.leaseMs ?? 30_000;
  }

  register(kind: string, impl: JobKind): void {
    this.#kinds.set(kind, impl);
  }

  /** Queues a job whose row was just inserted. */
  submit(job: { id: string; userId: string }, keys: KeyRing): void {
    this.#queue.push({ id: job.id, userId: job.userId, keys, queuedAt: performance.now() });
    this.#pump();
  }

  /**
   * Called on every signed-in request: hands the owner's keys to their jobs that no instance holds
   * (interrupted here or on an instance that died). Resolves once they are queued; undefined
   * when there was nothing to look up (looked at less than a second ago), without a promise.
   */
  resumeFor(session: SessionContext): Promise<void> | undefined {
    if (this.#closing) return undefined;
    const now = Date.now();
    if ((this.#looked.get(session.userId) ?? 0) > now - 1000) return undefined;
    this.#looked.set(session.userId, now);
    if (this.#looked.size > 10_000) for (const [k, t] of this.#looked) if (t < now - 1000) this.#looked.delete(k);
    return this.#resume(session);
  }

  async #resume(session: SessionContext): Promise<void> {
    const queued = new Set(this.#queue.map((e) => e.id));
    for (const job of await this.repo.unheld(session.userId)) {
      if (this.#running.has(job.id) || queued.has(job.id)) continue;
      if (await this.#giveUp(job)) continue;
      this.#queue.push({ id: job.id, userId: session.userId, keys: session.keys, queuedAt: performance.now() });
    }
    this.#pump();
  }

  /**
   * Start-up: jobs no instance holds that cannot resume fail with the reason; the others wait for
   * their owner's next signed-in request (see {@link resumeFor}). Jobs other instances hold are
   * theirs.
   */
  async recover(): Promise<void> {
    let waiting = 0;
    for (const job of await this.repo.unheld()) if (!(await this.#giveUp(job))) waiting++;
    // Input files of jobs that ended, or of uploads cut off before their job existed.
    await this.files.sweep(await this.repo.activeIds(), this.opts.sweepGraceMs ?? 0);
    if (waiting) this.log.info({ jobs: waiting }, 'interrupted jobs will resume when their owners sign in');
  }

  /** Fails a job that cannot resume (its input is gone, it is too old or was interrupted too often). */
  async #giveUp(job: JobRow): Promise<boolean> {
    const inputGone = job.input_ref !== null && !(await this.files.exists(job.user_id, job.id));
    const tooOld = Date.now() - new Date(job.created_at).getTime() > this.opts.resumeWithinMs;
    if (!inputGone && !tooOld && job.attempts < this.opts.maxAttempts && this.#kinds.has(job.kind)) return false;
    await this.repo.finish(job.id, { status: 'failed', errorCode: 'server_restarted' });
    await this.#removeInput(job);
    return true;
  }

  /** Shutdown: stops running jobs where they are and releases them, for whichever instance the owner uses next. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#queue.length = 0;
    const running = [...this.#running.values()];
    for (const r of running) r.abort.abort(new Error('server shutting down'));
    await Promise.allSettled(running.map((r) => r.done));
  }

  /**
   * Jobs queued and running here, and jobs no instance holds, waiting for their owner's next
   * sign-in (queue-depth gauge; the last is read from the shared jobs table, at most every 15 s).
   */
  async stats(): Promise<{ queued: number; running: number; waitingForOwner: number }> {
    const waitingForOwner = await this.#unheld().catch(() => 0);
    return { queued: this.#queue.length, running: this.#running.size, waitingForOwner };
  }

  /** Whether a job is running in this process (for tests and the list). */
  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  #pump(): void {
    if (this.#closing) return;
    for (let i = 0; i < this.#queue.length && this.#running.size < this.opts.maxConcurrent;) {
      const e = this.#queue[i]!;
      let mine = 0;
      for (const r of this.#running.values()) if (r.userId === e.userId) mine++;
      if (mine >= this.opts.perUser || this.#running.has(e.id)) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      const abort = new AbortController();
      const slot = { userId: e.userId, abort, done: Promise.resolve() };
      this.#running.set(e.id, slot);
      slot.done = this.#run(e, abort).finally(() => {
        this.#running.delete(e.id);
        this.#pump();
      });
    }
  }

  async #run(e: Entry, abort: AbortController): Promise<void> {
    // Only one instance gets the row back; for the others the job is done, running or theirs.
    const job = await this.repo.claim(e.id, this.#owner, this.#leaseMs).catch((err: Error) => {
      this.log.warn({ jobId: e.id, err: { name: err.name } }, 'job claim failed');
      return undefined;
    });
    if (!job) return;
    const owner = this.#owner;
    const kind = this.#kinds.get(job.kind);
    if (!kind) {
      await this.repo.finish(job.id, { status: 'failed', errorCode: 'unsupported', owner });
      return;
    }
    // A resumed job keeps what its earlier runs counted; its writes are idempotent, so the new
    // run counts only what the earlier ones had not stored.
    const ref = { userId: e.userId, id: job.id, version: 1 };
    const earlier = job.sealed ? jobOutcome.open(e.keys, ref, job.sealed) : {};
    // Keys are the sources' own type names: "constructor" or "__proto__" must be plain keys.
    const imported = Object.setPrototypeOf({ ...(earlier.imported ?? {}) }, null) as Record<string, number>;
    let progress: ImportProgress = (job.progress as ImportProgress | null) ?? { done: 0, unit: 'bytes' };
    let dirty = false;
    let written = 0;
    const warnings = new Map<string, JobWarning>((earlier.warnings ?? []).map((w) => [w.code, w]));
    // No warnings leaves the outcome as it was before they were kept.
    const result = (error?: string) =>
      jobOutcome.seal(e.keys, ref, { imported, ...(warnings.size ? { warnings: [...warnings.values()] } : {}), ...(error === undefined ? {} : { error }) });
    // Progress is written when it changed; the lease is renewed at least three times per lease.
    let renewedAt = Date.now();
    let lost = false;
    let beating = false;
    const timer = setInterval(
      () => {
        if (beating || (!dirty && Date.now() - renewedAt < this.#leaseMs / 3)) return;
        dirty = false;
        beating = true;
        this.repo
          .heartbeat(job.id, owner, this.#leaseMs, progress, result())
          .then((held) => {
            renewedAt = Date.now();
            if (held) return;
            // Our lease ran out (this process stalled) and another instance took the job: stop.
            lost = true;
            abort.abort(new Error('job lease lost'));
          })
          .catch((err: Error) => this.log.warn({ jobId: job.id, err: { name: err.name } }, 'job heartbeat failed'))
          .finally(() => (beating = false));
      },
      Math.min(this.opts.progressMs, this.#leaseMs / 3),
    );
    timer.unref();
    const ctx: JobContext = {
      job,
      session: { userId: e.userId, sessionId: `job:${job.id}`, email: '', keys: e.keys },
      signal: abort.signal,
      progress: (p) => {
        progress = p;
        dirty = true;
      },
      count: (type, n) => {
        if (n <= 0) return;
        written += n;
        imported[type] = (imported[type] ?? 0) + n;
        dirty = true;
      },
      warn: (w) => {
        if (!warnings.has(w.code) && warnings.size >= MAX_WARNINGS) return;
        warnings.set(w.code, w.count === undefined ? { code: w.code, message: w.message } : { code: w.code, message: w.message, count: w.count });
        dirty = true;
      },
    };
    const started = Date.now();
    const observer = this.opts.observer;
    observer?.started(job.kind, e.queuedAt === undefined ? 0 : (performance.now() - e.queuedAt) / 1000);
    const finished = (outcome: 'done' | 'failed' | 'interrupted') => observer?.finished(job.kind, outcome, (Date.now() - started) / 1000, written);
    const budget = await this.#budgetMs(job);
    const stopper = budget === undefined ? undefined : setTimeout(() => abort.abort(overBudget(budget)), budget);
    stopper?.unref();
    try {
      await withSpan(`job ${job.kind}`, { 'cv.job.kind': job.kind, 'cv.job.id': job.id, 'cv.job.attempt': job.attempts }, () => kind.run(ctx));
      clearTimeout(stopper);
      clearInterval(timer);
      // The input goes before the outcome is recorded: whoever sees "done" sees no leftover.
      await this.#removeInput(job);
      await this.repo.finish(job.id, { status: 'done', progress: doneProgress(progress), sealed: result(), owner });
      await this.#afterImport?.().catch(() => {});
      finished('done');
      this.log.info({ jobId: job.id, kind: job.kind, ms: Date.now() - started }, 'job done');
    } catch (err) {
      clearTimeout(stopper);
      clearInterval(timer);
      if (lost) {
        this.log.warn({ jobId: job.id, kind: job.kind }, 'job lease lost; another instance runs it now');
        return;
      }
      if (this.#closing && abort.signal.aborted) {
        // Left 'running' and released: the owner's next request on any instance resumes it.
        await this.repo.heartbeat(job.id, owner, this.#leaseMs, progress, result()).catch(() => false);
        await this.repo.release(job.id, owner).catch(() => {});
        finished('interrupted');
        this.log.info({ jobId: job.id, kind: job.kind }, 'job interrupted by shutdown');
        return;
      }
      finished('failed');
      const message = kind.describe?.(err) ?? (err instanceof JobFailure ? err.message : undefined);
      if (message === undefined) {
        // Errors can quote their input (JSON.parse does): log where it failed, never the message.
        const stack = String((err as Error)?.stack ?? '')
          .split('\n')
          .slice(1, 8)
          .join('\n');
        this.log.error({ jobId: job.id, kind: job.kind, errName: (err as Error)?.name, code: (err as { code?: unknown })?.code, stack }, 'job failed');
      } else {
        this.log.info({ jobId: job.id, kind: job.kind, errName: (err as Error)?.name, code: (err as { code?: unknown })?.code }, 'job refused its input');
      }
      await this.#removeInput(job);
      await this.repo
        .finish(job.id, { status: 'failed', progress, sealed: result(message), errorCode: message === undefined ? 'server_fault' : 'failed', owner })
        .catch((e: Error) => this.log.error({ jobId: job.id, err: { name: e.name } }, 'could not record a job failure'));
    }
  }

  /** The job's time budget in ms, for jobs that read an input file; undefined for the others. */
  async #budgetMs(job: JobRow): Promise<number | undefined> {
    const b = this.opts.budget ?? { baseMs: 300_000, msPerMB: 2000 };
    if (job.input_ref === null) return undefined;
    const bytes = await this.files.plainSize(job.user_id, job.id).catch(() => 0);
    return Math.round(b.baseMs + (b.msPerMB * bytes) / (1024 * 1024));
  }

  async #removeInput(job: { input_ref: string | null; user_id: string; id: string }): Promise<void> {
    if (job.input_ref !== null) await this.files.remove(job.user_id, job.id).catch(() => {});
  }

  #afterImport: (() => Promise<void>) | undefined;

  /** Called after each successful job (the app refreshes planner statistics there). */
  onJobDone(fn: () => Promise<void>): void {
    this.#afterImport = fn;
  }
}

function overBudget(ms: number): JobFailure {
  const took = ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.max(1, Math.round(ms / 1000))} seconds`;
  return new JobFailure(
    `The import was stopped after ${took}, the most this server allows for a file of this size: the file asks for far more work than its size explains. Nothing already imported will be duplicated if you import it again.`,
    'time_budget',
  );
}

/**
 * Units a job counts one by one to its total: a run that ends short of it stopped early (an OCR
 * whose item was deleted for good), so its progress stays as it was rather than claim the rest.
 */
const COUNTED_UNITS: ReadonlySet<string> = new Set(['pages']);

function doneProgress(p: ImportProgress): ImportProgress {
  return p.total !== undefined && !COUNTED_UNITS.has(p.unit) ? { ...p, done: p.total } : p;
}
