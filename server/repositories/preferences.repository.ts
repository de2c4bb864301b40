import type { Database } from '../db/index.js';

export class PreferencesRepository {
  constructor(private readonly db: Database) {}

  get(userId: string) {
    return this.db.selectFrom('user_preferences').select(['version', 'ciphertext', 'updated_at']).where('user_id', '=', userId).executeTakeFirst();
  }

  /** Writes version `version` only over `version - 1` (or nothing): a concurrent save loses, never both half-apply. */
  async put(userId: string, version: number, ciphertext: Uint8Array): Promise<boolean> {
    const r = await this.db
      .insertInto('user_preferences')
      .values({ user_id: userId, version, ciphertext })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ version, ciphertext, updated_at: new Date() })
          .where('user_preferences.version', '=', version - 1),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
