import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Cheap counts for an export's manifest, and what account deletion needs beyond cascades. */
export class ExportRepository {
  constructor(private readonly db: Database) {}

  async items(userId: string, includeTrash = true): Promise<number> {
    const r = await this.db
      .selectFrom('vault_items')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId)
      .$if(!includeTrash, (q) => q.where('deleted_at', 'is', null))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async files(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('files')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Which of these item ids this user already has, trash included. */
  async existingItemIds(userId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('vault_items').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  async chatIds(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('chats').select('id').where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  async chats(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('chats')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /**
   * Public tables with a `user_id` column, found at run time so that tables added by later
   * migrations are covered by account deletion even if a foreign key forgot `on delete cascade`.
   */
  async userTables(): Promise<string[]> {
    const r = await sql<{ table_name: string }>`
      select table_name from information_schema.columns
      where table_schema = 'public' and column_name = 'user_id'`.execute(this.db);
    return r.rows.map((x) => x.table_name).filter((t) => /^[a-z_][a-z0-9_]*$/.test(t));
  }

  /**
   * Deletes the user row, which cascades to every table keyed by it, then sweeps tables that hold
   * a `user_id` without a foreign key (nothing may outlive the account).
   */
  async deleteUser(userId: string): Promise<void> {
    const tables = await this.userTables();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('users').where('id', '=', userId).execute();
      for (const t of tables) await sql`delete from ${sql.table(t)} where user_id = ${userId}`.execute(trx);
    });
  }
}
