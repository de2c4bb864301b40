import { sql, type Insertable } from 'kysely';
import type { Database } from '../db/index.js';
import type { ApiTokensTable } from '../db/types.js';

export class ApiTokensRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the token unless its user already has `max` (expired ones count): false then. The
   * count and the insert hold a per-user lock until they commit, so creates at once cannot all
   * count the same number and pass the cap together.
   */
  createCapped(row: Insertable<ApiTokensTable> & { user_id: string }, max: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`api_tokens:${row.user_id}`}, 0))`.execute(trx);
      const r = await trx
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', row.user_id)
        .executeTakeFirstOrThrow();
      if (Number(r.n) >= max) return false;
      await trx.insertInto('api_tokens').values(row).execute();
      return true;
    });
  }

  /** A live token with its user's email and key version; expired rows are never returned. */
  findLive(lookupId: Uint8Array, now = new Date()) {
    return this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id',
        'api_tokens.user_id',
        'api_tokens.wrapped_vk',
        'api_tokens.scopes',
        'api_tokens.last_used_at',
        'users.email',
        'users.key_version',
      ])
      .where('api_tokens.lookup_id', '=', lookupId)
      .where('api_tokens.expires_at', '>', now)
      .executeTakeFirst();
  }

  /** The user's current key version, bound into the wrapped vault key's AAD. */
  async keyVersion(userId: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('users').select('key_version').where('id', '=', userId).executeTakeFirst();
    return r?.key_version;
  }

  async touch(id: string, at = new Date()): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  /** Every token of the user, expired ones included (so the list shows why a script stopped). */
  listForUser(userId: string) {
    return this.db
      .selectFrom('api_tokens')
      .select(['id', 'name_sealed', 'scopes', 'created_at', 'last_used_at', 'expires_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
  }

  async countForUser(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async delete(id: string, userId: string): Promise<number> {
    const r = await this.db.deleteFrom('api_tokens').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteAllForUser(userId: string): Promise<void> {
    await this.db.deleteFrom('api_tokens').where('user_id', '=', userId).execute();
  }
}
