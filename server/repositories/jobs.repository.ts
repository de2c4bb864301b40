import { sql, type Selectable } from 'kysely';
import type { Database } from '../db/index.js';
import type { JobsTable } from '../db/types.js';

export type JobRow = Selectable<JobsTable>;
export type JobStatus = JobsTable['status'];

const json = (v: unknown) => JSON.stringify(v);
/** The database's clock, so instances whose clocks differ agree on when a lease ends. */
const leaseEnd = (ms: number) => sql<Date>`now() + ${`${Math.round(ms)} milliseconds`}::interval`;

export class JobsRepository {
  constructor(private readonly db: Database) {}

  async insert(row: { id: string; userId: string; kind: string; progress: unknown; inputRef: string | null; inputFormat: string | null }): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
        id: row.id,
        user_id: row.userId,
        kind: row.kind,
        status: 'queued',
        progress: json(row.progress),
        sealed: null,
        error_code: null,
        input_ref: row.inputRef,
        input_format: row.inputFormat,
        heartbeat_at: null,
        started_at: null,
        finished_at: null,
      })
      .execute();
  }

  get(userId: string, id: string) {
    return this.db.selectFrom('jobs').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  }

  getById(id: string) {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(userId: string, limit: number) {
    return this.db.selectFrom('jobs').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * Jobs queued or running that no live instance holds: never claimed, released at shutdown, or
   * left by an instance that died (its lease ran out). Times are the database's, so instances
   * with skewed clocks agree. Integration syncs (`sync:*`) are not the runner's.
   */
  unheld(userId?: string) {
    let q = this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', ['queued', 'running'])
      .where('kind', 'not like', 'sync:%')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]));
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    return q.orderBy('created_at').execute();
  }

  /** How many jobs no instance holds: they wait for their owner's next signed-in request. */
  /** Jobs of a kind queued or running on any instance, held or not (a backlog gauge). */
  async countActive(kind: string): Promise<number> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('kind', '=', kind)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async countUnheld(): Promise<number> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', 'in', ['queued', 'running'])
      .where('kind', 'not like', 'sync:%')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Ids of every queued or running job, held or not (their input files must stay). */
  async activeIds(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).execute();
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Claims a job for `owner` for `leaseMs`, in one statement: only a job that is still active and
   * that nobody else holds (no lease, an expired one, or ours) is taken, so of two instances
   * racing for it exactly one gets the row back. Counts the attempt.
   */
  claim(id: string, owner: string, leaseMs: number) {
    return this.db
      .updateTable('jobs')
      .set({
        status: 'running',
        lease_owner: owner,
        lease_until: leaseEnd(leaseMs),
        started_at: new Date(),
        heartbeat_at: new Date(),
        attempts: sql`attempts + 1`,
        error_code: null,
      })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
  }

  /** Gives a held job back (shutdown): another instance may claim it at once. */
  async release(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ lease_until: sql<Date>`now()` })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /**
   * `sealed` is the owner's outcome so far (codec `jobOutcome`); progress numbers stay in clear.
   * Renews `owner`'s lease; false when the lease is no longer ours (it ran out and another
   * instance claimed the job): the caller must stop.
   */
  async heartbeat(id: string, owner: string, leaseMs: number, progress: unknown, sealed: Uint8Array): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ progress: json(progress), sealed, heartbeat_at: new Date(), lease_until: leaseEnd(leaseMs) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * `errorCode` is one of a fixed set (see JobRunner); any message that could quote the input is
   * inside `sealed`. With `owner`, only while that instance still holds the job: a run that lost
   * its lease must not overwrite what the instance now running it records.
   */
  async finish(
    id: string,
    f: { status: 'done' | 'failed'; progress?: unknown; sealed?: Uint8Array; errorCode?: string | null; owner?: string },
  ): Promise<void> {
    let q = this.db
      .updateTable('jobs')
      .set({
        status: f.status,
        ...(f.progress !== undefined ? { progress: json(f.progress) } : {}),
        ...(f.sealed !== undefined ? { sealed: f.sealed } : {}),
        error_code: f.errorCode ?? null,
        finished_at: new Date(),
        heartbeat_at: new Date(),
        lease_until: null,
      })
      .where('id', '=', id);
    if (f.owner !== undefined) q = q.where('lease_owner', '=', f.owner);
    await q.execute();
  }

  /** Jobs whose outcome is still in the clear columns of before 0011 (the vault upgrade seals them). */
  legacy(userId: string) {
    return this.db
      .selectFrom('jobs')
      .select(['id', 'legacy_result', 'legacy_error'])
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('legacy_result', 'is not', null), eb('legacy_error', 'is not', null)]))
      .execute();
  }

  async sealLegacy(userId: string, id: string, sealed: Uint8Array): Promise<void> {
    await this.db.updateTable('jobs').set({ sealed, legacy_result: null, legacy_error: null }).where('user_id', '=', userId).where('id', '=', id).execute();
  }

  /** The user's active job of a kind, if any (one vault upgrade at a time). */
  activeOfKind(userId: string, kind: string) {
    return this.db
      .selectFrom('jobs')
      .select(['id', 'status'])
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
  }

  /**
   * The time zones the user's other Fitbit imports were read in (`input_format` `zip;tz=Europe/Paris`;
   * none is UTC), besides `exceptZone`: of every such job that ever started, finished or not (a
   * failed one may have stored samples). Most recently started first, at most `limit`.
   */
  async otherFitbitZones(userId: string, exceptJobId: string, exceptZone: string, limit: number): Promise<string[]> {
    const r = await sql<{ zone: string }>`
      select zone from (
        select coalesce(nullif(split_part(input_format, ';tz=', 2), ''), 'UTC') as zone, max(started_at) as last_started
        from jobs
        where user_id = ${userId} and kind = 'fitbit' and id <> ${exceptJobId}
          and started_at is not null and status in ('running', 'done', 'failed')
        group by 1
      ) z
      where zone <> ${exceptZone}
      order by last_started desc, zone
      limit ${limit}`.execute(this.db);
    return r.rows.map((row) => row.zone);
  }

  // ---- integration syncs (`sync:<provider>`): run where they start, never resumed ----

  /** A sync job, running and held by `owner` from the start. */
  async insertHeld(row: { id: string; userId: string; kind: string; owner: string; leaseMs: number }): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
        id: row.id,
        user_id: row.userId,
        kind: row.kind,
        status: 'running',
        progress: json({ done: 0, total: 1, unit: 'syncs' }),
        sealed: null,
        error_code: null,
        input_ref: null,
        input_format: null,
        heartbeat_at: new Date(),
        started_at: new Date(),
        finished_at: null,
        attempts: 1,
        lease_owner: row.owner,
        lease_until: leaseEnd(row.leaseMs),
      })
      .execute();
  }

  /** The user's active job of a kind (held or not), if any. */
  active(userId: string, kind: string) {
    return this.db
      .selectFrom('jobs')
      .select('id')
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
  }

  /** The user's jobs of a kind that ended after `since`, newest first (at most `limit`). */
  finishedSince(userId: string, kind: string, since: Date, limit: number) {
    return this.db
      .selectFrom('jobs')
      .select(['id', 'user_id', 'sealed', 'finished_at'])
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('status', 'in', ['done', 'failed'])
      .where('finished_at', '>', since)
      .orderBy('finished_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** The running job of a kind a live instance holds for the user, if any. */
  held(userId: string, kind: string) {
    return this.db
      .selectFrom('jobs')
      .select('id')
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('status', '=', 'running')
      .where('lease_until', '>', sql<Date>`now()`)
      .executeTakeFirst();
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ lease_until: leaseEnd(leaseMs), heartbeat_at: new Date() })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /** Syncs whose instance died mid-run fail; the next scheduled sync starts from the stored cursor. */
  async failAbandoned(kindPrefix: string, errorCode: string): Promise<number> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'failed', error_code: errorCode, finished_at: new Date(), lease_until: null })
      .where('kind', 'like', `${kindPrefix}%`)
      .where('status', 'in', ['queued', 'running'])
      .where('lease_until', '<', sql<Date>`now()`)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
