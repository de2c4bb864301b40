import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/**
 * Counters shared by every instance on one PostgreSQL database: per-IP request windows
 * (`rate_hits`) and failed sign-in attempts per account (`failure_throttle`). Keys arrive already
 * MACed by the caller; each change is one atomic upsert, so concurrent instances never lose a hit.
 */
export class RateLimitsRepository {
  constructor(private readonly db: Database) {}

  /** Counts a hit in the key's window (a new window once the last one ended); the count and ms left. */
  async hit(key: Uint8Array, windowMs: number): Promise<{ hits: number; ttlMs: number }> {
    const window = sql`${`${Math.round(windowMs)} milliseconds`}::interval`;
    const r = await sql<{ hits: number; ttl_ms: number }>`
      insert into rate_hits (key, hits, reset_at) values (${key}, 1, now() + ${window})
      on conflict (key) do update set
        hits = case when rate_hits.reset_at <= now() then 1 else rate_hits.hits + 1 end,
        reset_at = case when rate_hits.reset_at <= now() then now() + ${window} else rate_hits.reset_at end
      returning hits, greatest(0, ceil(extract(epoch from (reset_at - now())) * 1000))::int as ttl_ms`.execute(this.db);
    const row = r.rows[0]!;
    return { hits: Number(row.hits), ttlMs: Number(row.ttl_ms) };
  }

  /** The key's count and ms left without counting (0, 0 when no window is open). */
  async peek(key: Uint8Array): Promise<{ hits: number; ttlMs: number }> {
    const r = await sql<{ hits: number; ttl_ms: number }>`
      select hits, greatest(0, ceil(extract(epoch from (reset_at - now())) * 1000))::int as ttl_ms
      from rate_hits where key = ${key} and reset_at > now()`.execute(this.db);
    const row = r.rows[0];
    return row ? { hits: Number(row.hits), ttlMs: Number(row.ttl_ms) } : { hits: 0, ttlMs: 0 };
  }

  /** Ms the key is still locked for (0 when it is not). */
  async lockedFor(key: Uint8Array): Promise<number> {
    const r = await sql<{ ms: number }>`
      select greatest(0, ceil(extract(epoch from (locked_until - now())) * 1000))::int as ms
      from failure_throttle where key = ${key}`.execute(this.db);
    return Number(r.rows[0]?.ms ?? 0);
  }

  /**
   * Counts an attempt as a failure unless the key is locked, in one statement: the upsert locks
   * the row, so concurrent attempts are counted one after another and each sees the lock the
   * previous one set. After `free` failures each further one locks the key for `baseMs` doubled
   * per failure, up to `maxMs`; the count restarts after `forgetMs` without a failure. False
   * when the key was locked (nothing counted).
   */
  async reserve(key: Uint8Array, p: { free: number; baseMs: number; maxMs: number; forgetMs: number }): Promise<boolean> {
    const forget = sql`${`${Math.round(p.forgetMs)} milliseconds`}::interval`;
    const next = sql`(case when failure_throttle.last_at < now() - ${forget} then 1 else failure_throttle.failures + 1 end)`;
    const r = await sql<{ failures: number }>`
      insert into failure_throttle (key, failures, locked_until, last_at) values (${key}, 1, now(), now())
      on conflict (key) do update set
        failures = ${next},
        last_at = now(),
        locked_until = case when ${next} > ${p.free}::int
          then now() + least(${p.maxMs}::float8, ${p.baseMs}::float8 * power(2, ${next} - ${p.free}::int - 1)) * interval '1 millisecond'
          else failure_throttle.locked_until end
      where failure_throttle.locked_until <= now()
      returning failures`.execute(this.db);
    return r.rows.length > 0;
  }

  async forgetFailures(key: Uint8Array): Promise<void> {
    await this.db.deleteFrom('failure_throttle').where('key', '=', key).execute();
  }

  /** Deletes windows and failure counts nobody needs any more. */
  async purge(forgetMs: number): Promise<void> {
    await this.db
      .deleteFrom('rate_hits')
      .where('reset_at', '<', sql<Date>`now()`)
      .execute();
    await sql`delete from failure_throttle where last_at < now() - ${`${Math.round(forgetMs)} milliseconds`}::interval and locked_until < now()`.execute(
      this.db,
    );
  }
}
