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

  /**
   * Replaces the passphrase wrap only if it is still `expected`, the wrap the caller read and
   * checked (compare-and-swap): false when another change got there first, so two changes that
   * raced cannot both report success while only the last one written opens the vault.
   */
  async setPassphraseWrap(id: string, kdfParams: unknown, wrapped: Uint8Array, expected: Uint8Array): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ kdf_params: JSON.stringify(kdfParams), wrapped_vk_passphrase: wrapped, updated_at: new Date() })
      .where('id', '=', id)
      .where('wrapped_vk_passphrase', '=', expected)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Replaces the recovery wrap only if it is still `expected` (compare-and-swap, as above). */
  async setRecoveryWrap(id: string, wrapped: Uint8Array, expected: Uint8Array): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ wrapped_vk_recovery: wrapped, updated_at: new Date() })
      .where('id', '=', id)
      .where('wrapped_vk_recovery', '=', expected)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}
