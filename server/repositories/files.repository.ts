import type { Insertable, Transaction } from 'kysely';
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
    return this.db
      .selectFrom('files')
      .selectAll()
      .where('user_id', '=', userId)
      .where('content_mac', '=', mac)
      .executeTakeFirst();
  }

  listIds(userId: string) {
    return this.db.selectFrom('files').select('id').where('user_id', '=', userId).execute();
  }
}
