import { createHmac } from 'node:crypto';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { rateLimited } from '../errors.js';
import type { RateLimitsRepository } from '../repositories/rate-limits.repository.js';
import { THROTTLE_POLICY, type Ceiling, type FailureThrottle, type ThrottlePolicy } from '../services/throttle.js';

/**
 * Limits that hold across app instances, kept in PostgreSQL (used only when DATABASE_URL is set:
 * embedded PGlite means one instance, whose in-memory stores are exact). Keys are MACed under the
 * server key first, so the tables hold neither client addresses nor email addresses.
 */
export function keyMac(serverKey: Buffer, purpose: string) {
  return (key: string) => createHmac('sha256', serverKey).update(`cv1|${purpose}|`).update(key).digest();
}

/** Failed sign-in attempts per account, counted in `failure_throttle`. */
export class PgFailureThrottle implements FailureThrottle {
  readonly #mac: (key: string) => Buffer;

  constructor(
    private readonly repo: RateLimitsRepository,
    serverKey: Buffer,
    private readonly policy: ThrottlePolicy = THROTTLE_POLICY,
  ) {
    this.#mac = keyMac(serverKey, 'failure-throttle');
  }

  async reserve(key: string, ceiling?: Ceiling): Promise<void> {
    // A locked ceiling refuses before the client's key is counted (FailureThrottle.reserve).
    const c = ceiling && this.#mac(ceiling.key);
    const ceilingMs = c ? await this.repo.lockedFor(c) : 0;
    if (ceilingMs > 0) throw rateLimited(ceilingMs / 1000);
    await this.#reserve(this.#mac(key), this.policy);
    if (ceiling && c) await this.#reserve(c, ceiling.policy);
  }

  async #reserve(k: Buffer, policy: ThrottlePolicy): Promise<void> {
    if (await this.repo.reserve(k, policy)) return;
    throw rateLimited(Math.max(1, await this.repo.lockedFor(k)) / 1000);
  }

  async succeed(key: string): Promise<void> {
    await this.repo.forgetFailures(this.#mac(key));
  }
}

type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit's `store` option: each route's window per client lives in
 * `rate_hits`, so a limit of N per minute means N across all instances together. Constructed by
 * the plugin (once globally, then `child()` per route, as its Redis store is).
 */
export function pgRateLimitStore(repo: RateLimitsRepository, serverKey: Buffer) {
  const mac = keyMac(serverKey, 'rate-limit');
  let purgedAt = Date.now();
  return class PgRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly prefix = '',
    ) {}

    incr(key: string, cb: Callback, timeWindow: number): void {
      if (Date.now() - purgedAt > 60_000) {
        purgedAt = Date.now();
        void repo.purge(THROTTLE_POLICY.forgetMs).catch(() => {});
      }
      repo.hit(mac(this.prefix + key), timeWindow).then(
        (r) => cb(null, { current: r.hits, ttl: r.ttlMs }),
        (err: Error) => cb(err),
      );
    }

    read(key: string, cb: Callback): void {
      repo.peek(mac(this.prefix + key)).then(
        (r) => cb(null, { current: r.hits, ttl: r.ttlMs }),
        (err: Error) => cb(err),
      );
    }

    // Typed as the route's options, but the plugin passes its merged limits with `routeInfo`.
    child(routeOptions: unknown): PgRateLimitStore {
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new PgRateLimitStore(undefined, `${this.prefix}${String(info.method ?? '')}${String(info.url ?? '')}|`);
    }
  };
}
