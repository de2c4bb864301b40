import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Sizes the operator watches (the storage gauges); nothing about any user's data. */
export class StorageRepository {
  constructor(private readonly db: Database) {}

  /** Bytes the current database takes on disk. */
  async databaseBytes(): Promise<number> {
    const r = await sql<{ bytes: string | number }>`select pg_database_size(current_database()) as bytes`.execute(this.db);
    return Number(r.rows[0]?.bytes ?? 0);
  }
}
