import { sql, type Insertable, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB, FilesTable } from '../db/types.js';

export class FilesRepository {
  constructor(private readonly db: Database) {}

  async insert(row: Insertable<FilesTable>, trx: Database | Transaction<DB> = this.db): Promise<void> {
    await trx.insertInto('files').values(row).execute();
  }

  get(userId: string, id: string) {
    return this.db.selectFrom('files').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  }

  findByMac(userId: string, mac: Uint8Array) {
    return this.db.selectFrom('files').selectAll().where('user_id', '=', userId).where('content_mac', '=', mac).executeTakeFirst();
  }

  /** Records which files an item links (see migration 0013: the purge reads this, not the record). */
  async linkItems(userId: string, links: Array<{ itemId: string; fileId: string }>): Promise<void> {
    if (links.length === 0) return;
    // Only this user's items and files: the join drops anything else.
    await sql`
      insert into item_files (item_id, file_id)
      select l.item_id, l.file_id
      from (values ${sql.join(links.map((l) => sql`(${l.itemId}::uuid, ${l.fileId}::uuid)`))}) as l(item_id, file_id)
      join vault_items i on i.id = l.item_id and i.user_id = ${userId}
      join files f on f.id = l.file_id and f.user_id = ${userId}
      on conflict do nothing`.execute(this.db);
  }

  /**
   * Deletes a file row no item, version or record link points at (a save that failed after its
   * file was stored); answers whether it did, so the caller removes the bytes.
   */
  async deleteIfUnused(userId: string, id: string): Promise<boolean> {
    const r = await sql<{ id: string }>`
      delete from files f
      where f.user_id = ${userId} and f.id = ${id}::uuid
        and not exists (select 1 from vault_items i where i.file_id = f.id)
        and not exists (select 1 from item_versions v where v.file_id = f.id)
        and not exists (select 1 from item_files l where l.file_id = f.id)
      returning f.id`.execute(this.db);
    return r.rows.length > 0;
  }

  listIds(userId: string) {
    return this.db.selectFrom('files').select('id').where('user_id', '=', userId).execute();
  }
}
