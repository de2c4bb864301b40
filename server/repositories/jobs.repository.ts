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
        result: null,
        error: null,
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
      .set({ status: 'running', started_at: new Date(), heartbeat_at: new Date(), attempts: sql`attempts + 1`, error: null })
      .where('id', '=', id)
      .execute();
  }

  async heartbeat(id: string, progress: unknown, result: unknown): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ progress: json(progress), result: result === undefined ? null : json(result), heartbeat_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async finish(id: string, f: { status: 'done' | 'failed'; progress?: unknown; result?: unknown; error?: string | null }): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        status: f.status,
        ...(f.progress !== undefined ? { progress: json(f.progress) } : {}),
        ...(f.result !== undefined ? { result: json(f.result) } : {}),
        error: f.error ?? null,
        finished_at: new Date(),
        heartbeat_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Back to the queue after an interruption, keeping progress and counts so far. */
  async requeue(id: string): Promise<void> {
    await this.db.updateTable('jobs').set({ status: 'queued', heartbeat_at: new Date() }).where('id', '=', id).execute();
  }
}
