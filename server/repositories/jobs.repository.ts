import { sql, type Selectable } from 'kysely';
import type { Database } from '../db/index.js';
import type { JobsTable } from '../db/types.js';

export type JobRow = Selectable<JobsTable>;
export type JobStatus = JobsTable['status'];

const json = (v: unknown) => JSON.stringify(v);

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

  /** Jobs that were queued or running when the server last stopped. */
  active() {
    return this.db.selectFrom('jobs').selectAll().where('status', 'in', ['queued', 'running']).orderBy('created_at').execute();
  }

  async start(id: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'running', started_at: new Date(), heartbeat_at: new Date(), attempts: sql`attempts + 1`, error_code: null })
      .where('id', '=', id)
      .execute();
  }

  /** `sealed` is the owner's outcome so far (codec `jobOutcome`); progress numbers stay in clear. */
  async heartbeat(id: string, progress: unknown, sealed: Uint8Array): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ progress: json(progress), sealed, heartbeat_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  /** `errorCode` is one of a fixed set (see JobRunner); any message that could quote the input is inside `sealed`. */
  async finish(id: string, f: { status: 'done' | 'failed'; progress?: unknown; sealed?: Uint8Array; errorCode?: string | null }): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        status: f.status,
        ...(f.progress !== undefined ? { progress: json(f.progress) } : {}),
        ...(f.sealed !== undefined ? { sealed: f.sealed } : {}),
        error_code: f.errorCode ?? null,
        finished_at: new Date(),
        heartbeat_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
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
    await this.db
      .updateTable('jobs')
      .set({ sealed, legacy_result: null, legacy_error: null })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .execute();
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

  /** Back to the queue after an interruption, keeping progress and counts so far. */
  async requeue(id: string): Promise<void> {
    await this.db.updateTable('jobs').set({ status: 'queued', heartbeat_at: new Date() }).where('id', '=', id).execute();
  }
}
