import { sql, type Kysely } from 'kysely';

/**
 * Several app instances on one database (issue 19).
 * - `jobs.lease_owner` / `jobs.lease_until`: the instance running a job and until when its claim
 *   holds; the runner renews it with each heartbeat, and a job whose lease ran out (its instance
 *   died) may be claimed by the instance where its owner next signs in. Integration syncs are
 *   jobs too (`sync:<provider>`), one active per user and provider.
 * - `rate_hits`: the per-IP request limits (@fastify/rate-limit) shared by every instance; `key` is
 *   an HMAC of route + client address under the server key, never the address itself.
 * - `failure_throttle`: failed sign-in / unlock / recovery attempts per account, shared the same
 *   way; `key` is an HMAC of the normalised email.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs add column lease_owner text`.execute(db);
  await sql`alter table jobs add column lease_until timestamptz`.execute(db);
  await sql`create index jobs_active_lease_idx on jobs (user_id, lease_until) where status in ('queued', 'running')`.execute(db);
  // One sync per user and provider at a time, whichever instances are asked for it at once.
  await sql`create unique index jobs_one_sync_idx on jobs (user_id, kind) where kind like 'sync:%' and status in ('queued', 'running')`.execute(db);
  await sql`
    create table rate_hits (
      key bytea primary key,
      hits integer not null,
      reset_at timestamptz not null
    )`.execute(db);
  await sql`create index rate_hits_reset_idx on rate_hits (reset_at)`.execute(db);
  await sql`
    create table failure_throttle (
      key bytea primary key,
      failures integer not null,
      locked_until timestamptz not null,
      last_at timestamptz not null
    )`.execute(db);
  await sql`create index failure_throttle_last_idx on failure_throttle (last_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists failure_throttle`.execute(db);
  await sql`drop table if exists rate_hits`.execute(db);
  await sql`drop index if exists jobs_one_sync_idx`.execute(db);
  await sql`drop index if exists jobs_active_lease_idx`.execute(db);
  await sql`alter table jobs drop column if exists lease_until`.execute(db);
  await sql`alter table jobs drop column if exists lease_owner`.execute(db);
}
