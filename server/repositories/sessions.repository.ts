import type { Insertable } from 'kysely';
import type { Database } from '../db/index.js';
import type { SessionsTable } from '../db/types.js';

export class SessionsRepository {
  constructor(private readonly db: Database) {}

  async create(row: Insertable<SessionsTable>): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  /** A live session with its user's email; expired rows are never returned. */
  findLive(lookupId: Uint8Array, now = new Date()) {
    return this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.id', 'sessions.user_id', 'sessions.wrapped_vk', 'sessions.last_seen_at', 'sessions.expires_at', 'users.email', 'users.key_version'])
      .where('sessions.lookup_id', '=', lookupId)
      .where('sessions.expires_at', '>', now)
      .executeTakeFirst();
  }

  async touch(id: string, expiresAt: Date): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: new Date(), expires_at: expiresAt }).where('id', '=', id).execute();
  }

  listForUser(userId: string) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'created_at', 'last_seen_at', 'expires_at'])
      .where('user_id', '=', userId)
      .where('expires_at', '>', new Date())
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  async delete(id: string, userId?: string): Promise<number> {
    const r = await this.db
      .deleteFrom('sessions')
      .where('id', '=', id)
      .$if(userId !== undefined, (q) => q.where('user_id', '=', userId!))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteOthers(userId: string, keepId: string | null): Promise<number> {
    const r = await this.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .$if(keepId !== null, (q) => q.where('id', '!=', keepId!))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now = new Date()): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
