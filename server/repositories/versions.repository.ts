import { sql, type Insertable, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB, ItemVersionsTable } from '../db/types.js';

type Executor = Database | Transaction<DB>;

/** Earlier states of items (table `item_versions`); contents are sealed by the service. */
export class VersionsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Keeps one earlier state and prunes the item's history in the same statement: at most `keep`
   * versions (the one inserted here included) and none saved before `notBefore`, oldest first.
   * One round trip per save, so history costs a save little.
   */
  async insertAndPrune(row: Insertable<ItemVersionsTable>, keep: number, notBefore: Date, trx: Executor = this.db): Promise<void> {
    // The delete runs on the snapshot before the insert, so it keeps `keep - 1` older versions.
    await sql`
      with added as (
        insert into item_versions (item_id, user_id, version, file_id, ciphertext, saved_at)
        values (${row.item_id}::uuid, ${row.user_id}::uuid, ${row.version}, ${row.file_id ?? null}::uuid, ${row.ciphertext}::bytea, ${row.saved_at}::timestamptz)
      )
      delete from item_versions v
      where v.item_id = ${row.item_id}::uuid and v.user_id = ${row.user_id}::uuid
        and (v.saved_at < ${notBefore}::timestamptz
          or v.version <= (
            select o.version from item_versions o where o.item_id = ${row.item_id}::uuid
            order by o.version desc offset ${Math.max(0, keep - 1)} limit 1))`.execute(trx);
  }

  list(userId: string, itemId: string) {
    return this.db
      .selectFrom('item_versions')
      .select(['item_id', 'user_id', 'version', 'file_id', 'ciphertext', 'saved_at'])
      .where('user_id', '=', userId)
      .where('item_id', '=', itemId)
      .orderBy('version', 'desc')
      .execute();
  }

  get(userId: string, itemId: string, version: number, trx: Executor = this.db) {
    return trx
      .selectFrom('item_versions')
      .select(['item_id', 'user_id', 'version', 'file_id', 'ciphertext', 'saved_at'])
      .where('user_id', '=', userId)
      .where('item_id', '=', itemId)
      .where('version', '=', version)
      .executeTakeFirst();
  }
}
