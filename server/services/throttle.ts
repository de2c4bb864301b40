import { rateLimited } from '../errors.js';

/**
 * Failed-attempt throttling per account (login, unlock, recovery), on top of the per-IP rate
 * limit: after `free` failures each further one doubles the wait, up to `maxMs`.
 * Kept in memory: with several API instances each throttles on its own, which still bounds an
 * attacker to (instances x limit); a shared store can replace this map.
 */
export class FailureThrottle {
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

  /**
   * Checks the lock and counts the attempt as a failure before any work is done, so that
   * concurrent guesses cannot all pass `check` while the first one is still deriving its key.
   * A correct attempt then calls {@link succeed}, which forgets the count.
   */
  reserve(key: string, now = Date.now()): void {
    this.check(key, now);
    this.fail(key, now);
  }

  fail(key: string, now = Date.now()): void {
    const e = this.#entries.get(key);
    const failures = e && now - e.lastAt < this.forgetMs ? e.failures + 1 : 1;
    const over = failures - this.free;
    const lockedUntil = over > 0 ? now + Math.min(this.maxMs, this.baseMs * 2 ** (over - 1)) : 0;
    this.#entries.set(key, { failures, lockedUntil, lastAt: now });
    if (this.#entries.size > 100_000) this.#sweep(now);
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.lastAt > this.forgetMs) this.#entries.delete(k);
  }
}
