import { rateLimited } from '../errors.js';

/**
 * Failed-attempt throttling per account (login, unlock, recovery), on top of the per-IP rate
 * limit: after `free` failures each further one doubles the wait, up to `maxMs`.
 */
export interface FailureThrottle {
  /**
   * Checks the lock (429 with Retry-After while locked) and counts the attempt as a failure
   * before any work is done, so that concurrent guesses cannot all pass while the first one is
   * still deriving its key. A correct attempt then calls `succeed`, which forgets the count.
   */
  reserve(key: string): Promise<void>;
  succeed(key: string): Promise<void>;
}

export interface ThrottlePolicy {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

export const THROTTLE_POLICY: ThrottlePolicy = { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, forgetMs: 60 * 60_000 };

/** How long the key is locked after its `failures`th failure (0: not locked). */
export function lockMs(failures: number, p: ThrottlePolicy = THROTTLE_POLICY): number {
  const over = failures - p.free;
  return over > 0 ? Math.min(p.maxMs, p.baseMs * 2 ** (over - 1)) : 0;
}

/** The one-instance throttle (embedded PGlite): a map in memory. */
export class MemoryFailureThrottle implements FailureThrottle {
  readonly #entries = new Map<string, { failures: number; lockedUntil: number; lastAt: number }>();

  constructor(
    private readonly free = 5,
    private readonly baseMs = 2_000,
    private readonly maxMs = 15 * 60_000,
    private readonly forgetMs = 60 * 60_000,
  ) {}

  /** Throws 429 with Retry-After while the key is locked. */
  check(key: string, now = Date.now()): void {
    const e = this.#entries.get(key);
    if (e && e.lockedUntil > now) throw rateLimited((e.lockedUntil - now) / 1000);
  }

  async reserve(key: string, now = Date.now()): Promise<void> {
    this.check(key, now);
    this.fail(key, now);
  }

  fail(key: string, now = Date.now()): void {
    const e = this.#entries.get(key);
    const failures = e && now - e.lastAt < this.forgetMs ? e.failures + 1 : 1;
    const wait = lockMs(failures, { free: this.free, baseMs: this.baseMs, maxMs: this.maxMs, forgetMs: this.forgetMs });
    const lockedUntil = wait > 0 ? now + wait : 0;
    this.#entries.set(key, { failures, lockedUntil, lastAt: now });
    if (this.#entries.size > 100_000) this.#sweep(now);
  }

  async succeed(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.lastAt > this.forgetMs) this.#entries.delete(k);
  }
}
