import type { FastifyBaseLogger } from 'fastify';
import { jobOutcome } from '../codec/index.js';
import type { ImportProgress } from '../../integrations/types.js';
import type { JobRow, JobsRepository } from '../repositories/jobs.repository.js';
import type { KeyRing, SessionContext } from '../services/keyring.js';
import type { ImportFiles } from './encrypted-file.js';
import type { JobObserver } from '../metrics/jobs.js';
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
}

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
 * over when the job is submitted and dropped when it ends. After a crash or restart, jobs that
 * were queued or running are queued again and resume (from the start: every write is
 * idempotent) on their owner's next signed-in request; if that never comes, or the same job was
 * interrupted too often, they fail with the reason.
 */
export class JobRunner {
  readonly #kinds = new Map<string, JobKind>();
  readonly #queue: Entry[] = [];
  readonly #running = new Map<string, { userId: string; abort: AbortController; done: Promise<void> }>();
  /** Interrupted jobs by owner, waiting for a request that carries the owner's keys. */
  readonly #waiting = new Map<string, Set<string>>();
  #closing = false;

  constructor(
    private readonly repo: JobsRepository,
    private readonly files: ImportFiles,
    private readonly log: FastifyBaseLogger,
    private readonly opts: RunnerOptions,
  ) {}

  register(kind: string, impl: JobKind): void {
    this.#kinds.set(kind, impl);
  }

  /** Queues a job whose row was just inserted. */
  submit(job: { id: string; userId: string }, keys: KeyRing): void {
    this.#queue.push({ id: job.id, userId: job.userId, keys, queuedAt: performance.now() });
    this.#pump();
  }

  /** Called on every signed-in request: hands interrupted jobs the keys they were waiting for. */
  resumeFor(session: SessionContext): void {
    const ids = this.#waiting.get(session.userId);
    if (!ids) return;
    this.#waiting.delete(session.userId);
    for (const id of ids) this.#queue.push({ id, userId: session.userId, keys: session.keys, queuedAt: performance.now() });
    this.#pump();
  }

  /** Start-up: jobs left queued or running by the last process are never left as they were. */
  async recover(): Promise<void> {
    const keep = new Set<string>();
    for (const job of await this.repo.active()) {
      const inputGone = job.input_ref !== null && !(await this.files.exists(job.user_id, job.id));
      const tooOld = Date.now() - new Date(job.created_at).getTime() > this.opts.resumeWithinMs;
      if (inputGone || tooOld || job.attempts >= this.opts.maxAttempts || !this.#kinds.has(job.kind)) {
        await this.repo.finish(job.id, { status: 'failed', errorCode: 'server_restarted' });
        continue;
      }
      if (job.status === 'running') await this.repo.requeue(job.id);
      keep.add(job.id);
      let set = this.#waiting.get(job.user_id);
      if (!set) this.#waiting.set(job.user_id, (set = new Set()));
      set.add(job.id);
    }
    // Input files of jobs that ended, or of uploads cut off before their job existed.
    await this.files.sweep(keep);
    if (keep.size) this.log.info({ jobs: keep.size }, 'interrupted jobs will resume when their owners sign in');
  }

  /** Shutdown: stops running jobs where they are; their rows stay 'running' for {@link recover}. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#queue.length = 0;
    const running = [...this.#running.values()];
    for (const r of running) r.abort.abort(new Error('server shutting down'));
    await Promise.allSettled(running.map((r) => r.done));
  }

  /** Jobs queued, running, and waiting for their owner's next sign-in (queue-depth gauge). */
  stats(): { queued: number; running: number; waitingForOwner: number } {
    let waitingForOwner = 0;
    for (const ids of this.#waiting.values()) waitingForOwner += ids.size;
    return { queued: this.#queue.length, running: this.#running.size, waitingForOwner };
  }

  /** Whether a job is running in this process (for tests and the list). */
  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  #pump(): void {
    if (this.#closing) return;
    for (let i = 0; i < this.#queue.length && this.#running.size < this.opts.maxConcurrent; ) {
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
    const job = await this.repo.getById(e.id).catch(() => undefined);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
    const kind = this.#kinds.get(job.kind);
    if (!kind) {
      await this.repo.finish(job.id, { status: 'failed', errorCode: 'unsupported' });
      return;
    }
    // A resumed job keeps what its earlier runs counted; its writes are idempotent, so the new
    // run counts only what the earlier ones had not stored.
    const ref = { userId: e.userId, id: job.id, version: 1 };
    const earlier = job.sealed ? jobOutcome.open(e.keys, ref, job.sealed) : {};
    const imported: Record<string, number> = { ...(earlier.imported ?? {}) };
    let progress: ImportProgress = (job.progress as ImportProgress | null) ?? { done: 0, unit: 'bytes' };
    let dirty = false;
    let written = 0;
    const result = (error?: string) => jobOutcome.seal(e.keys, ref, error === undefined ? { imported } : { imported, error });
    await this.repo.start(job.id);
    const timer = setInterval(() => {
      if (!dirty) return;
      dirty = false;
      this.repo.heartbeat(job.id, progress, result()).catch((err: Error) => this.log.warn({ jobId: job.id, err: { name: err.name } }, 'job heartbeat failed'));
    }, this.opts.progressMs);
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
      await this.repo.finish(job.id, { status: 'done', progress: doneProgress(progress), sealed: result() });
      await this.#afterImport?.().catch(() => {});
      finished('done');
      this.log.info({ jobId: job.id, kind: job.kind, ms: Date.now() - started }, 'job done');
    } catch (err) {
      clearTimeout(stopper);
      clearInterval(timer);
      if (this.#closing && abort.signal.aborted) {
        // Left 'running' on purpose: the next start-up queues it again.
        await this.repo.heartbeat(job.id, progress, result()).catch(() => {});
        finished('interrupted');
        this.log.info({ jobId: job.id, kind: job.kind }, 'job interrupted by shutdown');
        return;
      }
      finished('failed');
      const message = kind.describe?.(err) ?? (err instanceof JobFailure ? err.message : undefined);
      if (message === undefined) {
        // Errors can quote their input (JSON.parse does): log where it failed, never the message.
        const stack = String((err as Error)?.stack ?? '').split('\n').slice(1, 8).join('\n');
        this.log.error({ jobId: job.id, kind: job.kind, errName: (err as Error)?.name, code: (err as { code?: unknown })?.code, stack }, 'job failed');
      } else {
        this.log.info({ jobId: job.id, kind: job.kind, errName: (err as Error)?.name, code: (err as { code?: unknown })?.code }, 'job refused its input');
      }
      await this.#removeInput(job);
      await this.repo.finish(job.id, { status: 'failed', progress, sealed: result(message), errorCode: message === undefined ? 'server_fault' : 'failed' }).catch((e: Error) =>
        this.log.error({ jobId: job.id, err: { name: e.name } }, 'could not record a job failure'),
      );
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

function doneProgress(p: ImportProgress): ImportProgress {
  return p.total !== undefined ? { ...p, done: p.total } : p;
}
