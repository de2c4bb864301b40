import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB } from '../db/types.js';

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

  /** The files an export holds: those the exported items point at (see {@link fileIds}). */
  async files(userId: string, includeTrash = true): Promise<number> {
    const r = await this.db
      .selectFrom('files as f')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('f.user_id', '=', userId)
      .where((eb) => usedBy(eb, userId, includeTrash))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /**
   * One page of the ids of the files an export holds, in id order after `after`: the files of
   * live items (and of trashed ones with `includeTrash`), by the item's own file or a record's
   * attachment. A file only trashed items, earlier versions or nothing point at stays out.
   */
  async fileIds(userId: string, includeTrash: boolean, after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('files as f')
      .select('f.id')
      .where('f.user_id', '=', userId)
      .$if(after !== undefined, (q) => q.where('f.id', '>', after!))
      .where((eb) => usedBy(eb, userId, includeTrash))
      .orderBy('f.id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Gives restored items the times they had in the export: created and last changed, and their
   * place in lists (an undated item sorts by when it was made, which search postings copy).
   */
  async restoreTimes(userId: string, times: Array<{ id: string; createdAt: Date; updatedAt: Date }>): Promise<void> {
    if (times.length === 0) return;
    const ids = times.map((t) => t.id);
    await this.db.transaction().execute(async (trx) => {
      await sql`
        update vault_items i
        set created_at = v.created_at, updated_at = v.updated_at, sort_at = coalesce(i.occurred_at, v.created_at)
        from (values ${sql.join(times.map((t) => sql`(${t.id}::uuid, ${t.createdAt}::timestamptz, ${t.updatedAt}::timestamptz)`))})
          as v(id, created_at, updated_at)
        where i.id = v.id and i.user_id = ${userId}`.execute(trx);
      await sql`
        update search_terms st set sort_at = i.sort_at
        from vault_items i
        where i.id = st.item_id and st.user_id = ${userId} and i.user_id = ${userId}
          and i.id in (${sql.join(ids.map((id) => sql`${id}::uuid`))}) and st.sort_at <> i.sort_at`.execute(trx);
    });
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

/** Whether an item of the export (live, or trashed too) points at file `f`. */
function usedBy(eb: ExpressionBuilder<DB & { f: DB['files'] }, 'f'>, userId: string, includeTrash: boolean) {
  return eb.or([
    eb.exists(
      eb
        .selectFrom('vault_items as i')
        .select(sql.lit(1).as('one'))
        .whereRef('i.file_id', '=', 'f.id')
        .where('i.user_id', '=', userId)
        .$if(!includeTrash, (q) => q.where('i.deleted_at', 'is', null)),
    ),
    eb.exists(
      eb
        .selectFrom('item_files as l')
        .innerJoin('vault_items as i', 'i.id', 'l.item_id')
        .select(sql.lit(1).as('one'))
        .whereRef('l.file_id', '=', 'f.id')
        .where('i.user_id', '=', userId)
        .$if(!includeTrash, (q) => q.where('i.deleted_at', 'is', null)),
    ),
  ]);
}
