import { isIPv4, isIPv6 } from 'node:net';
import { rateLimited } from '../errors.js';

/**
 * Failed-attempt throttling (sign-in, recovery, a signed-in user's passphrase checks), on top of
 * the per-IP rate limit: after `free` failures each further one doubles the wait, up to `maxMs`.
 *
 * The lock that refuses an attempt is keyed by account *and* client (the address for sign-in and
 * recovery, the session for re-authentication), so a stranger who knows an email locks out only
 * themselves. The account alone is counted too, as a much higher ceiling against guessing spread
 * over many addresses ({@link CEILING_POLICY}).
 */
export interface FailureThrottle {
  /**
   * Checks the lock (429 with Retry-After while locked) and counts the attempt as a failure
   * before any work is done, so that concurrent guesses cannot all pass while the first one is
   * still deriving its key. A correct attempt then calls `succeed`, which forgets the count.
   *
   * With `ceiling`, that key (the account across every client) is checked first and, when it is
   * locked, the attempt is refused without being counted against the client; otherwise the
   * attempt is counted on both, each under its own policy.
   */
  reserve(key: string, ceiling?: Ceiling): Promise<void>;
  succeed(key: string): Promise<void>;
}

export interface Ceiling {
  key: string;
  policy: ThrottlePolicy;
}

export interface ThrottlePolicy {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

/** One account from one client: 5 free failures, then 2 s doubling up to 15 min. */
export const THROTTLE_POLICY: ThrottlePolicy = { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, forgetMs: 60 * 60_000 };

/**
 * One account from every client together: 100 failures an hour, then 1 s doubling up to 1 min.
 * Any one client is locked long before (five free failures, then doubling waits: about 16 guesses
 * an hour), so only guessing spread over many addresses or sessions reaches it, and each guess
 * already costs an Argon2id derivation (~0.8 s of CPU, at most KDF_CONCURRENCY at once). A short
 * lock rather than 15 minutes: this lock also refuses the owner, so the most a distributed
 * guesser can cost them is a minute's wait, while holding guessing to about 60 an hour. The same
 * `forgetMs` as {@link THROTTLE_POLICY}: the shared table's purge forgets every key after it.
 */
export const CEILING_POLICY: ThrottlePolicy = { free: 100, baseMs: 1_000, maxMs: 60_000, forgetMs: 60 * 60_000 };

/** How long the key is locked after its `failures`th failure (0: not locked). */
export function lockMs(failures: number, p: ThrottlePolicy = THROTTLE_POLICY): number {
  const over = failures - p.free;
  return over > 0 ? Math.min(p.maxMs, p.baseMs * 2 ** (over - 1)) : 0;
}

/**
 * The part of a client address that one client controls: an IPv4 address, or an IPv6 address's
 * /64 (a single host is usually handed a whole /64, so counting each address apart would give it
 * billions of fresh locks). IPv4-mapped IPv6 counts as its IPv4 address; anything else as is.
 */
export function clientBucket(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const groups = expandIPv6(bare);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, lower-case hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    s = s.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** The one-instance throttle (embedded PGlite): a map in memory. */
export class MemoryFailureThrottle implements FailureThrottle {
  readonly #entries = new Map<string, { failures: number; lockedUntil: number; lastAt: number; forgetMs: number }>();

  constructor(private readonly policy: ThrottlePolicy = THROTTLE_POLICY) {}

  /** Throws 429 with Retry-After while the key is locked. */
  check(key: string, now = Date.now()): void {
    const e = this.#entries.get(key);
    if (e && e.lockedUntil > now) throw rateLimited((e.lockedUntil - now) / 1000);
  }

  async reserve(key: string, ceiling?: Ceiling, now = Date.now()): Promise<void> {
    // Both checked before either is counted: one map, no await in between, so this is atomic.
    if (ceiling) this.check(ceiling.key, now);
    this.check(key, now);
    this.fail(key, now);
    if (ceiling) this.fail(ceiling.key, now, ceiling.policy);
  }

  fail(key: string, now = Date.now(), p: ThrottlePolicy = this.policy): void {
    const e = this.#entries.get(key);
    const failures = e && now - e.lastAt < p.forgetMs ? e.failures + 1 : 1;
    const wait = lockMs(failures, p);
    const lockedUntil = wait > 0 ? now + wait : 0;
    this.#entries.set(key, { failures, lockedUntil, lastAt: now, forgetMs: p.forgetMs });
    if (this.#entries.size > 100_000) this.#sweep(now);
  }

  async succeed(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.lastAt > e.forgetMs && e.lockedUntil <= now) this.#entries.delete(k);
  }
}
