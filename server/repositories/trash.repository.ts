import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Permanent deletion: trashed items with everything hanging off them, and files nobody uses. */
export class TrashRepository {
  constructor(private readonly db: Database) {}

  /** Trashed items deleted before `before`, any user, oldest first (the retention purge). */
  expired(before: Date, limit: number) {
    return this.db
      .selectFrom('vault_items')
      .select(['id', 'user_id'])
      .where('deleted_at', 'is not', null)
      .where('deleted_at', '<', before)
      .orderBy('deleted_at')
      .limit(limit)
      .execute();
  }

  /** Ids of this user's trashed items (all of them, or the given ones). */
  async trashed(userId: string, ids?: string[]): Promise<string[]> {
    if (ids && ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('vault_items')
      .select('id')
      .where('user_id', '=', userId)
      .where('deleted_at', 'is not', null)
      .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Deletes trashed items for good, in one transaction: the rows (their versions, postings and
   * tag links cascade), tags no item uses any more, and file rows no remaining item or version
   * points at. Answers the files whose bytes the caller must now remove.
   */
  async purge(userId: string, itemIds: string[]): Promise<Array<{ id: string; user_id: string }>> {
    if (itemIds.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      // Versions cascade with their items, so the files they pointed at are read first.
      const versionFiles = await trx
        .selectFrom('item_versions')
        .select('file_id')
        .distinct()
        .where('user_id', '=', userId)
        .where('item_id', 'in', itemIds)
        .where('file_id', 'is not', null)
        .execute();
      const linkedFiles = await trx.selectFrom('item_files').select('file_id').distinct().where('item_id', 'in', itemIds).execute();
      const deleted = await trx
        .deleteFrom('vault_items')
        .where('user_id', '=', userId)
        .where('id', 'in', itemIds)
        .where('deleted_at', 'is not', null)
        .returning(['id', 'file_id'])
        .execute();
      if (deleted.length === 0) return [];
      const candidates = [...new Set([...deleted, ...versionFiles, ...linkedFiles].flatMap((d) => (d.file_id ? [d.file_id] : [])))];
      await sql`
        delete from tags t where t.user_id = ${userId}
          and not exists (select 1 from item_tags it where it.tag_id = t.id)`.execute(trx);
      if (candidates.length === 0) return [];
      const files = await sql<{ id: string; user_id: string }>`
        delete from files f
        where f.user_id = ${userId} and f.id in (${sql.join(candidates.map((c) => sql`${c}::uuid`))})
          and not exists (select 1 from vault_items i where i.file_id = f.id)
          and not exists (select 1 from item_versions v where v.file_id = f.id)
          and not exists (select 1 from item_files l where l.file_id = f.id)
        returning f.id, f.user_id`.execute(trx);
      return files.rows;
    });
  }
}
