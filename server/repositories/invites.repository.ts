import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Serializes deciding who is admin; the same number as in migration 0029's `users_keep_admin`. */
const ADMIN_LOCK = 7201746391002029;

export class InvitesRepository {
  constructor(private readonly db: Database) {}

  async create(row: { id: string; code_hash: Uint8Array; created_by: string | null; expires_at: Date }): Promise<void> {
    await this.db.insertInto('invites').values(row).execute();
  }

  /** Takes an unused, unexpired code in one statement (two sign-ups cannot share it). */
  async consume(codeHash: Uint8Array, now = new Date()): Promise<string | null> {
    const r = await this.db
      .updateTable('invites')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('id')
      .executeTakeFirst();
    return r?.id ?? null;
  }

  /** Gives a code back when the registration that took it failed. */
  async release(id: string): Promise<void> {
    await this.db.updateTable('invites').set({ used_at: null }).where('id', '=', id).where('used_by', 'is', null).execute();
  }

  async markUsedBy(id: string, userId: string): Promise<void> {
    await this.db.updateTable('invites').set({ used_by: userId }).where('id', '=', id).execute();
  }

  list() {
    return this.db.selectFrom('invites').select(['id', 'created_at', 'expires_at', 'used_at']).orderBy('created_at', 'desc').limit(200).execute();
  }

  async delete(id: string): Promise<number> {
    const r = await this.db.deleteFrom('invites').where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * After a sign-up: an instance whose accounts have no admin gives it to its oldest account,
   * which is the new one when it is the instance's first (no-op once any admin exists; deleting
   * an admin hands it on by itself, migration 0029's trigger). Under the advisory lock that
   * trigger takes too, in a statement begun after the lock is held, so it sees every committed
   * account and admin: two sign-ups on an empty PostgreSQL cannot both find "no admin" and both
   * take it, nor can one miss the hand-over of a deletion committing beside it.
   */
  async ensureAdmin(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(ADMIN_LOCK)})`.execute(trx);
      await sql`
        update users set is_admin = true
        where id = (select id from users order by created_at, id limit 1) and not exists (select 1 from users where is_admin)`.execute(trx);
    });
  }

  async setAdmin(email: string): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ is_admin: true }).where('email', '=', email).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async isAdmin(userId: string): Promise<boolean> {
    const r = await this.db.selectFrom('users').select('is_admin').where('id', '=', userId).executeTakeFirst();
    return r?.is_admin === true;
  }
}
