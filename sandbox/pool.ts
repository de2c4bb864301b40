import type { SandboxInstance, SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import { AiOfflineError, PoolClosedError, PoolSaturatedError, PoolTimeoutError, SandboxError, SandboxStartError } from './errors.js';
import { MODEL_DEADLINES_DEFAULT } from './config.js';
import { ollamaHealthy, type ModelDeadlines } from './ollama.js';

/** Why a container left the pool (`dead`: its Ollama stopped answering while it was idle). */
export type RecycleReason = 'maxUses' | 'maxAge' | 'error' | 'cancelled' | 'evicted' | 'drain' | 'lost' | 'dead';

/** Pool sizing and limits (a subset of `SandboxConfig`). */
export interface SandboxPoolOptions {
  minWarm: number;
  max: number;
  maxUses: number;
  maxAgeMs: number;
  queueMax: number;
  acquireTimeoutMs: number;
  log?: SandboxLogger;
  /** Extra start-up step after `runtime.create()` (e.g. preloading the model); failure = start failure. */
  prepare?: (instance: SandboxInstance) => Promise<void>;
  /** What each lease's requests may wait on the model (default MODEL_DEADLINES_DEFAULT). */
  deadlines?: ModelDeadlines;
  /** Whether an idle instance still serves, checked before it is lent (default: its Ollama answers `/api/version`). */
  alive?: (instance: SandboxInstance) => Promise<boolean>;
  /** Clock, for tests. */
  now?: () => number;
}

/** What {@link SandboxPool.health} reports. */
export type PoolHealth = { ok: true } | { ok: false; code: string; message: string };

/** How a lease ended. */
export interface ReleaseOptions {
  /** The request failed: the container is destroyed, never reused. */
  error?: boolean;
  /** The stream was cancelled (client went away): the container is destroyed. */
  cancelled?: boolean;
}

/** One user's exclusive use of one sandbox for one request. */
export interface Lease {
  readonly id: string;
  readonly userId: string;
  readonly baseUrl: string;
  /** The runtime's id of the sandbox (container id), for logs and tests. */
  readonly instanceId: string;
  /** How long a request to it may wait on the model before it is cut. */
  readonly deadlines: ModelDeadlines;
  /** Returns the sandbox; idempotent. Never throws. */
  release(opts?: ReleaseOptions): void;
}

/** Count, sum and percentiles over the most recent samples. */
export interface Summary {
  count: number;
  sum: number;
  p50: number;
  p95: number;
}

/** Snapshot returned by {@link SandboxPool.metrics}. */
export interface PoolMetrics {
  acquireWaitMs: Summary;
  lifetimesMs: Summary;
  recycles: Record<RecycleReason, number>;
  queueDepth: number;
  /** Containers alive in any state (starting, idle, leased, being removed). */
  live: number;
  /** Idle, including those bound to a user. */
  idle: number;
  /** Idle and not yet bound to any user: what a new user gets without waiting. */
  warm: number;
  leased: number;
  starting: number;
  /** Containers that started and became ready (since start-up). */
  starts: number;
  createFailures: number;
  lastError?: string;
}

/** `checking`: promised to a waiter, once its Ollama is found to answer. */
type EntryState = 'starting' | 'idle' | 'checking' | 'leased' | 'destroying';

interface Entry {
  id: string;
  instance?: SandboxInstance;
  state: EntryState;
  /** Null until a user leases it; afterwards it only ever serves this user. */
  owner: string | null;
  uses: number;
  createdAt: number;
  lastUsedAt: number;
  /** False until `runtime.create()` is called: a slot the runtime does not count yet. */
  placed: boolean;
}

interface Waiter {
  userId: string;
  enqueuedAt: number;
  /** Served, or gave up (timeout, abort, drain): a container checked for it goes back. */
  settled: boolean;
  resolve(lease: Lease): void;
  reject(err: unknown): void;
}

const SAMPLE_WINDOW = 1024;

class Samples {
  private buf: number[] = [];
  count = 0;
  sum = 0;
  add(v: number): void {
    this.count++;
    this.sum += v;
    this.buf.push(v);
    if (this.buf.length > SAMPLE_WINDOW) this.buf.shift();
  }
  summary(): Summary {
    const sorted = [...this.buf].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return { count: this.count, sum: this.sum, p50: at(0.5), p95: at(0.95) };
  }
}

/**
 * The inference pool. Keeps `minWarm` unassigned containers ready, never more than `max` alive,
 * and queues acquires FIFO up to `queueMax` for at most `acquireTimeoutMs`.
 *
 * Isolation rule: a container serves exactly one user for its whole life. A warm container is
 * bound to the first user who leases it; after release it may serve that user again (until
 * `maxUses` / `maxAgeMs`), but when another user needs capacity, idle containers bound to other
 * users are destroyed and replaced rather than handed over. Errors and cancelled streams destroy
 * the container at once, since its state (KV cache, partial output) is not trustworthy.
 */
export class SandboxPool {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Waiter[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly acquireWait = new Samples();
  private readonly lifetimes = new Samples();
  private readonly recycles: Record<RecycleReason, number> = { maxUses: 0, maxAge: 0, error: 0, cancelled: 0, evicted: 0, drain: 0, lost: 0, dead: 0 };
  private readonly log: SandboxLogger;
  private readonly now: () => number;
  private state: 'new' | 'running' | 'draining' | 'closed' = 'new';
  private createFailures = 0;
  private starts = 0;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  private lastErrorCode: string | undefined;
  private warmRetryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private leaseSeq = 0;
  private warnedNotEphemeral = false;
  private unwatch: (() => void) | undefined;

  constructor(
    readonly runtime: SandboxRuntime,
    private readonly opts: SandboxPoolOptions,
  ) {
    if (opts.max < 1) throw new RangeError('max must be at least 1');
    if (opts.minWarm > opts.max) throw new RangeError('minWarm cannot exceed max');
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Removes orphans a crashed server left behind, then starts warming up. Resolves without
   * waiting for the warm containers and never throws for runtime failures: those are reported
   * by {@link metrics} and {@link ping}, since the vault must keep working without AI.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    if (!this.runtime.ephemeral && !this.warnedNotEphemeral) {
      this.warnedNotEphemeral = true;
      this.log.warn({ runtime: this.runtime.kind }, 'sandbox runtime is not ephemeral: prompts reach a long-lived Ollama that the pool cannot wipe');
    }
    try {
      const removed = await this.runtime.removeOrphans();
      if (removed > 0) this.log.warn({ removed }, 'removed sandbox containers left by a previous run');
    } catch (err) {
      this.noteFailure(err);
      this.log.error({ err }, 'could not remove orphaned sandboxes');
    }
    // A runtime over several engines reports engines going down or coming back.
    this.unwatch = this.runtime.watch?.(() => {
      // Every engine gone: those waiting learn now, not at their timeout.
      if (this.runtime.available?.() === false) {
        for (const w of this.queue.splice(0)) w.reject(this.offline());
      }
      this.pump();
    });
    this.runtime.start?.();
    const sweepEvery = Math.max(50, Math.min(this.opts.maxAgeMs / 4, 30_000));
    this.sweepTimer = setInterval(() => this.pump(), sweepEvery);
    this.sweepTimer.unref();
    if (this.runtime.kind !== 'none') this.pump();
  }

  /**
   * Leases a sandbox for `userId`. Resolves as soon as one is free and its Ollama answers; throws
   * {@link PoolSaturatedError} at once when `queueMax` requests already wait,
   * {@link PoolTimeoutError} after `acquireTimeoutMs`, {@link PoolClosedError} while draining,
   * {@link SandboxStartError} when the container started for this request failed,
   * {@link AiOfflineError} for the `none` runtime, and the
   * signal's reason when `signal` aborts first.
   */
  acquire(userId: string, { signal }: { signal?: AbortSignal } = {}): Promise<Lease> {
    if (this.state !== 'running') return Promise.reject(new PoolClosedError());
    if (this.runtime.kind === 'none') return Promise.reject(new AiOfflineError());
    if (this.runtime.available?.() === false) return Promise.reject(this.offline());
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Fast path. A user's own idle container serves them even past a full queue (nobody else
    // may use it); an unassigned one only when nobody is queued ahead, to stay FIFO.
    const queuedBefore = this.queue.length;
    const idle = this.findIdleFor(userId);
    const lendable = idle && (queuedBefore === 0 || idle.owner === userId) ? idle : undefined;
    if (!lendable && queuedBefore >= this.opts.queueMax) return Promise.reject(new PoolSaturatedError(this.opts.queueMax));
    return new Promise<Lease>((resolve, reject) => {
      const settle = () => {
        waiter.settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        userId,
        enqueuedAt: this.now(),
        settled: false,
        resolve: (lease) => {
          settle();
          resolve(lease);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.removeWaiter(waiter);
        waiter.reject(new PoolTimeoutError(this.opts.acquireTimeoutMs));
      }, this.opts.acquireTimeoutMs);
      const onAbort = () => {
        this.removeWaiter(waiter);
        waiter.reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (lendable) this.vet(lendable, waiter);
      else this.queue.push(waiter);
      this.pump();
    });
  }

  /** Whether chat can be served: the runtime answers and the last container start did not fail. */
  async ping(): Promise<boolean> {
    if (this.state === 'draining' || this.state === 'closed') return false;
    if (this.consecutiveFailures > 0) return false;
    try {
      return await this.runtime.ping();
    } catch {
      return false;
    }
  }

  /**
   * Whether chat can be served, and if not why, in words a user can act on: the last start's
   * error (`no_model`: "No model pulled: ...", `image_missing`, ...), or the engine not answering.
   */
  async health(): Promise<PoolHealth> {
    if (this.state === 'draining' || this.state === 'closed') return { ok: false, code: 'pool_closed', message: 'The AI pool is shutting down.' };
    if (this.consecutiveFailures > 0) {
      return { ok: false, code: this.lastErrorCode ?? 'sandbox_start_failed', message: this.lastError ?? 'The AI sandbox failed to start.' };
    }
    let answers = false;
    try {
      answers = await this.runtime.ping();
    } catch {
      // Counts as not answering.
    }
    return answers ? { ok: true } : { ok: false, code: 'ai_offline', message: `The ${this.runtime.kind} runtime does not answer.` };
  }

  /**
   * For SIGTERM: refuses new acquires, fails queued ones with {@link PoolClosedError}, waits up
   * to `deadlineMs` for leases to be released, then destroys every container (leased or not).
   */
  async drain(deadlineMs = 10_000): Promise<void> {
    if (this.state === 'closed') return;
    const wasNew = this.state === 'new';
    this.state = 'draining';
    clearInterval(this.sweepTimer);
    clearTimeout(this.retryTimer);
    for (const w of this.queue.splice(0)) w.reject(new PoolClosedError());
    if (!wasNew) {
      const until = this.now() + deadlineMs;
      while ([...this.entries.values()].some((e) => e.state === 'leased') && this.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // Starting containers finish first (create has its own timeout), then go with the rest.
    await Promise.allSettled([...this.inflight]);
    for (const e of this.entries.values()) if (e.state !== 'destroying') this.retire(e, 'drain');
    await Promise.allSettled([...this.inflight]);
    this.unwatch?.();
    await this.runtime.close?.();
    this.state = 'closed';
  }

  /** A snapshot of the pool's counters; cheap enough for every scrape. */
  metrics(): PoolMetrics {
    let idle = 0;
    let warm = 0;
    let leased = 0;
    let starting = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'idle') {
        idle++;
        if (e.owner === null) warm++;
      } else if (e.state === 'leased' || e.state === 'checking') {
        // One being checked is already promised to a chat.
        leased++;
      } else if (e.state === 'starting') starting++;
    }
    const m: PoolMetrics = {
      acquireWaitMs: this.acquireWait.summary(),
      lifetimesMs: this.lifetimes.summary(),
      recycles: { ...this.recycles },
      queueDepth: this.queue.length,
      live: this.entries.size,
      idle,
      warm,
      leased,
      starting,
      starts: this.starts,
      createFailures: this.createFailures,
    };
    if (this.lastError !== undefined) m.lastError = this.lastError;
    return m;
  }

  private removeWaiter(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private expired(e: Entry): boolean {
    return this.now() - e.createdAt >= this.opts.maxAgeMs;
  }

  private findIdleFor(userId: string): Entry | undefined {
    let warm: Entry | undefined;
    for (const e of this.entries.values()) {
      if (e.state !== 'idle' || this.expired(e) || this.lost(e)) continue;
      if (e.owner === userId) return e;
      if (e.owner === null && !warm) warm = e;
    }
    return warm;
  }

  private lend(entry: Entry, userId: string): Lease {
    entry.state = 'leased';
    entry.owner = userId;
    entry.uses++;
    const baseUrl = entry.instance!.baseUrl;
    let released = false;
    return {
      id: `${entry.id}#${++this.leaseSeq}`,
      userId,
      baseUrl,
      instanceId: entry.instance!.id,
      deadlines: this.opts.deadlines ?? MODEL_DEADLINES_DEFAULT,
      release: (opts: ReleaseOptions = {}) => {
        if (released) return;
        released = true;
        this.onRelease(entry, opts);
      },
    };
  }

  /**
   * Lends an idle container to `w` once its Ollama answers. One can die while idle (an OOM kill,
   * `docker kill`) with nothing telling the pool, and lent as it is the chat would fail as "AI
   * offline" while a fresh container would serve it. A dead one is retired and `w` goes back to
   * the head of the queue, still under its own timeout.
   */
  private vet(entry: Entry, w: Waiter): void {
    entry.state = 'checking';
    const alive = this.opts.alive ?? ((i: SandboxInstance) => ollamaHealthy(i.baseUrl));
    const checked = alive(entry.instance!)
      .catch(() => false)
      .then((ok) => {
        // Draining: drain() waits for this check, then retires the container with the rest.
        if (this.state !== 'running') {
          entry.state = 'idle';
          if (!w.settled) w.reject(new PoolClosedError());
          return;
        }
        if (!ok) {
          this.log.warn({ id: entry.instance!.id }, 'an idle sandbox stopped answering: replacing it');
          this.retire(entry, 'dead');
          if (!w.settled) this.queue.unshift(w);
        } else if (w.settled) {
          entry.state = 'idle';
        } else {
          this.acquireWait.add(this.now() - w.enqueuedAt);
          w.resolve(this.lend(entry, w.userId));
        }
        this.pump();
      });
    this.track(checked);
  }

  private onRelease(entry: Entry, opts: ReleaseOptions): void {
    if (entry.state !== 'leased') return;
    if (this.state !== 'running') this.retire(entry, 'drain');
    else if (this.lost(entry)) this.retire(entry, 'lost');
    else if (opts.error) this.retire(entry, 'error');
    else if (opts.cancelled) this.retire(entry, 'cancelled');
    else if (entry.uses >= this.opts.maxUses) this.retire(entry, 'maxUses');
    else if (this.expired(entry)) this.retire(entry, 'maxAge');
    else {
      entry.state = 'idle';
      entry.lastUsedAt = this.now();
    }
    this.pump();
  }

  private offline(): AiOfflineError {
    return new AiOfflineError('The AI is offline: no sandbox host answers.');
  }

  /** Whether the entry's engine stopped answering (see hosts.ts): it is never leased again. */
  private lost(e: Entry): boolean {
    return e.instance !== undefined && (this.runtime.isLost?.(e.instance.id) ?? false);
  }

  /** Containers the runtime can still place beyond those already starting (unbounded for one engine). */
  private headroom(): number {
    const free = this.runtime.freeSlots?.();
    if (free === undefined) return Infinity;
    let unplaced = 0;
    for (const e of this.entries.values()) if (!e.placed) unplaced++;
    return free - unplaced;
  }

  /** Destroys a container in the background; its slot counts against `max` until it is gone. */
  private retire(entry: Entry, reason: RecycleReason): void {
    entry.state = 'destroying';
    this.recycles[reason]++;
    this.lifetimes.add(this.now() - entry.createdAt);
    const p = (async () => {
      try {
        if (entry.instance) await this.runtime.destroy(entry.instance.id);
      } catch (err) {
        this.log.error({ err, id: entry.instance?.id }, 'could not remove sandbox');
      } finally {
        this.entries.delete(entry.id);
      }
    })();
    this.track(p.then(() => this.pump()));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private spawn(): void {
    const entry: Entry = { id: `s${++this.seq}`, state: 'starting', owner: null, uses: 0, createdAt: this.now(), lastUsedAt: 0, placed: false };
    this.entries.set(entry.id, entry);
    const p = (async () => {
      try {
        // Start on the next turn: runtimes do synchronous work (spawn, request setup) that must
        // not sit on the path of the acquire that triggered the refill.
        await new Promise((r) => setImmediate(r));
        entry.placed = true;
        const instance = await this.runtime.create();
        entry.instance = instance;
        if (this.opts.prepare) await this.opts.prepare(instance);
        entry.createdAt = this.now();
        this.starts++;
        this.consecutiveFailures = 0;
        this.lastError = undefined;
        this.lastErrorCode = undefined;
        if (this.state !== 'running') {
          this.retire(entry, 'drain');
          return;
        }
        entry.state = 'idle';
      } catch (err) {
        this.entries.delete(entry.id);
        if (entry.instance) await this.runtime.destroy(entry.instance.id).catch(() => undefined);
        this.noteFailure(err);
        // A runtime that does not answer (OLLAMA_URL's Ollama stopped) is the operator's to fix
        // and /health/ollama says so; the pool retries it every warm-up, so it is not an error each time.
        if (err instanceof AiOfflineError)
          this.log.warn({ err: { name: err.name, message: err.message } }, 'sandbox failed to start: the AI runtime does not answer');
        else this.log.error({ err }, 'sandbox failed to start');
        // The oldest waiter learns now rather than at its timeout: the engine is likely broken.
        this.queue.shift()?.reject(err instanceof SandboxError ? err : new SandboxStartError('AI sandbox failed to start', { cause: err }));
      }
      this.pump();
    })();
    this.track(p);
  }

  private noteFailure(err: unknown): void {
    this.createFailures++;
    this.consecutiveFailures++;
    this.lastError = err instanceof Error ? err.message : String(err);
    this.lastErrorCode = err instanceof SandboxError ? err.code : undefined;
    // Back off warm-ups so a missing image or dead engine is not hammered; demand still tries.
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.consecutiveFailures - 1, 6));
    this.warmRetryAt = this.now() + delay;
    clearTimeout(this.retryTimer);
    if (this.state === 'running') {
      this.retryTimer = setTimeout(() => this.pump(), delay);
      this.retryTimer.unref();
    }
  }

  /** Matches waiters to containers, evicts and starts containers as needed. Synchronous. */
  private pump(): void {
    if (this.state !== 'running') return;
    for (const e of this.entries.values()) {
      if (e.state === 'idle' && this.expired(e)) this.retire(e, 'maxAge');
      else if (e.state === 'idle' && this.lost(e)) this.retire(e, 'lost');
    }
    const unserved: Waiter[] = [];
    for (const w of [...this.queue]) {
      const e = this.findIdleFor(w.userId);
      if (!e) {
        unserved.push(w);
        continue;
      }
      this.queue.splice(this.queue.indexOf(w), 1);
      this.vet(e, w);
    }
    const all = [...this.entries.values()];
    // Slots starting or being freed are future capacity: waiters take them first, in order.
    let pending = all.filter((e) => e.state === 'starting' || e.state === 'destroying').length;
    const idleUnowned = all.filter((e) => e.state === 'idle' && e.owner === null).length;
    // Idle containers bound to users with nothing queued (any waiter of theirs was served above).
    const reclaimable = all.filter((e) => e.state === 'idle' && e.owner !== null).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    const grow = (): boolean => {
      if (this.entries.size < this.opts.max && this.headroom() > 0) {
        this.spawn();
        return true;
      }
      const victim = reclaimable.shift();
      if (!victim) return false;
      this.retire(victim, 'evicted');
      return true;
    };
    while (pending < unserved.length && grow()) pending++;
    if (this.consecutiveFailures > 0 && this.now() < this.warmRetryAt) return;
    // minWarm counts unassigned capacity left after the queue is served; a user's idle container
    // is given up for it, since a new user must never wait on a cold start to keep an old one.
    while (idleUnowned + pending - unserved.length < this.opts.minWarm && grow()) pending++;
  }
}
