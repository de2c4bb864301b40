import { sql, type Insertable, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB, FoldersTable } from '../db/types.js';

type Executor = Database | Transaction<DB>;

/** The folder tree (names sealed by the service) and which folder each item is filed in. */
export class FoldersRepository {
  constructor(readonly db: Database) {}

  /**
   * A transaction over one user's folder tree, holding a lock on that tree until it ends: the
   * checks a change makes (no cycle, at most 32 deep) read the tree, so two changes at once
   * (A into B while B goes into A) must not both pass on the tree as it was.
   */
  tree<T>(userId: string, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockTree(userId, trx);
      return fn(trx);
    });
  }

  /**
   * Takes the lock {@link tree} holds, in a transaction begun elsewhere (an item's save filing it
   * in a folder), until that transaction ends: a folder delete then trashes what was filed
   * before it, and a filing after it finds the folder gone. Taking it again is harmless.
   */
  async lockTree(userId: string, trx: Transaction<DB>): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`folders:${userId}`}, 0))`.execute(trx);
  }

  async insert(row: Insertable<FoldersTable>, trx: Executor = this.db): Promise<void> {
    await trx.insertInto('folders').values(row).execute();
  }

  get(userId: string, id: string, trx: Executor = this.db) {
    return trx
      .selectFrom('folders')
      .select(['id', 'user_id', 'parent_id', 'version', 'ciphertext'])
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The folders directly under `parentId` (top-level ones for null), names sealed. */
  children(userId: string, parentId: string | null, trx: Executor = this.db) {
    return trx
      .selectFrom('folders')
      .select(['id', 'version', 'ciphertext'])
      .where('user_id', '=', userId)
      .where('parent_id', parentId === null ? 'is' : '=', parentId)
      .execute();
  }

  /** Every folder of the user with the number of live items filed directly in it. */
  listWithCounts(userId: string) {
    return this.db
      .selectFrom('folders as f')
      .select([
        'f.id',
        'f.user_id',
        'f.parent_id',
        'f.version',
        'f.ciphertext',
        (eb) =>
          eb
            .selectFrom('vault_items as i')
            .select((e) => e.fn.countAll<string | number>().as('n'))
            .whereRef('i.folder_id', '=', 'f.id')
            .where('i.user_id', '=', userId)
            .where('i.deleted_at', 'is', null)
            .as('count'),
      ])
      .where('f.user_id', '=', userId)
      .orderBy('f.created_at')
      .orderBy('f.id')
      .execute();
  }

  /** The folder and everything under it, walked by the database. */
  async subtree(userId: string, id: string, trx: Executor = this.db): Promise<string[]> {
    const r = await sql<{ id: string }>`
      with recursive sub(id) as (
        select id from folders where user_id = ${userId} and id = ${id}
        union
        select f.id from folders f join sub on f.parent_id = sub.id where f.user_id = ${userId}
      )
      select id from sub`.execute(trx);
    return r.rows.map((x) => x.id);
  }

  /** How many levels of folders lie below this one (0 for one with no subfolders). */
  async height(userId: string, id: string, trx: Executor = this.db): Promise<number> {
    const r = await sql<{ n: string | number }>`
      with recursive down(id, n) as (
        select id, 0 from folders where user_id = ${userId} and id = ${id}
        union all
        select f.id, down.n + 1 from folders f join down on f.parent_id = down.id where f.user_id = ${userId} and down.n < 1000
      )
      select max(n) as n from down`.execute(trx);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** How many folders lie above this one (0 for a top-level folder). */
  async depth(userId: string, id: string, trx: Executor = this.db): Promise<number> {
    const r = await sql<{ n: string | number }>`
      with recursive up(id, parent_id, n) as (
        select id, parent_id, 0 from folders where user_id = ${userId} and id = ${id}
        union all
        select f.id, f.parent_id, up.n + 1 from folders f join up on f.id = up.parent_id where f.user_id = ${userId} and up.n < 1000
      )
      select max(n) as n from up`.execute(trx);
    return Number(r.rows[0]?.n ?? 0);
  }

  async update(
    userId: string,
    id: string,
    set: { parent_id?: string | null; ciphertext?: Uint8Array; version?: number },
    trx: Executor = this.db,
  ): Promise<boolean> {
    const r = await trx
      .updateTable('folders')
      .set({ ...set, updated_at: new Date() })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Deletes folders (children cascade); items still filed in them are left in no folder. */
  async delete(userId: string, ids: string[], trx: Executor = this.db): Promise<void> {
    if (ids.length === 0) return;
    await trx.deleteFrom('folders').where('user_id', '=', userId).where('id', 'in', ids).execute();
  }

  /** Moves live items in these folders to the trash; they leave the folder with it. */
  async trashItemsIn(userId: string, folderIds: string[], trx: Executor = this.db): Promise<number> {
    if (folderIds.length === 0) return 0;
    const r = await trx
      .updateTable('vault_items')
      .set({ deleted_at: new Date(), folder_id: null })
      .where('user_id', '=', userId)
      .where('folder_id', 'in', folderIds)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Files items (trash excluded) in a folder, or in none; answers which ids moved. */
  async moveItems(userId: string, itemIds: string[], folderId: string | null, trx: Executor = this.db): Promise<string[]> {
    if (itemIds.length === 0) return [];
    const rows = await trx
      .updateTable('vault_items')
      .set({ folder_id: folderId })
      .where('user_id', '=', userId)
      .where('id', 'in', itemIds)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }
}
