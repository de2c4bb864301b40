import type { Insertable } from 'kysely';
import type { Database } from '../db/index.js';
import type { UsersTable } from '../db/types.js';

export class UsersRepository {
  constructor(private readonly db: Database) {}

  create(row: Insertable<UsersTable>) {
    return this.db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
  }

  findByEmail(email: string) {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  findById(id: string) {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async setPassphraseWrap(id: string, kdfParams: unknown, wrapped: Uint8Array): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ kdf_params: JSON.stringify(kdfParams), wrapped_vk_passphrase: wrapped, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  async setRecoveryWrap(id: string, wrapped: Uint8Array): Promise<void> {
    await this.db.updateTable('users').set({ wrapped_vk_recovery: wrapped, updated_at: new Date() }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}
