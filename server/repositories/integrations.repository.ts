import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** Integrations, their sealed tokens, the inbox, and the Google identity link on users. */
export class IntegrationsRepository {
  constructor(readonly db: Database) {}

  // ---- users.google_sub ----

  findUserByGoogleSub(mac: Uint8Array) {
    return this.db.selectFrom('users').select(['id', 'email']).where('google_sub', '=', mac).executeTakeFirst();
  }

  /** False when another account already holds this Google identity. */
  async setGoogleSub(userId: string, mac: Uint8Array | null): Promise<boolean> {
    try {
      await this.db.updateTable('users').set({ google_sub: mac, updated_at: new Date() }).where('id', '=', userId).execute();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return false;
      throw err;
    }
  }

  hasGoogleSub(userId: string) {
    return this.db
      .selectFrom('users')
      .select(sql<boolean>`google_sub is not null`.as('linked'))
      .where('id', '=', userId)
      .executeTakeFirst();
  }

  inboxPublicKey(userId: string) {
    return this.db
      .selectFrom('users')
      .select(['inbox_public_key', 'inbox_private_key_wrapped', 'inbox_public_key_mac'])
      .where('id', '=', userId)
      .executeTakeFirst();
  }

  /** Stores the checked public key and its MAC (a repair rewrites the key too). */
  async certifyInboxPublicKey(userId: string, publicKey: Uint8Array, mac: Uint8Array): Promise<void> {
    await this.db.updateTable('users').set({ inbox_public_key: publicKey, inbox_public_key_mac: mac }).where('id', '=', userId).execute();
  }

  // ---- integrations ----

  list(userId: string) {
    return this.db.selectFrom('integrations').selectAll().where('user_id', '=', userId).orderBy('provider').execute();
  }

  get(userId: string, provider: string) {
    return this.db.selectFrom('integrations').selectAll().where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst();
  }

  /** Connecting again replaces the endpoint, token and cursor: a new grant starts a new sync. */
  async upsertConnected(p: { id: string; userId: string; provider: string; endpoint: string | null; token: Uint8Array }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('integrations')
        .values({ id: p.id, user_id: p.userId, provider: p.provider, endpoint: p.endpoint, status: 'connected', next_sync_at: new Date(), cursor: null })
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'provider'])
            .doUpdateSet({
              endpoint: p.endpoint,
              status: 'connected',
              error: null,
              error_code: null,
              cursor: null,
              next_sync_at: new Date(),
              updated_at: new Date(),
            }),
        )
        .execute();
      await trx
        .insertInto('integration_tokens')
        .values({ user_id: p.userId, provider: p.provider, ciphertext: p.token, version: 1 })
        .onConflict((oc) =>
          oc.columns(['user_id', 'provider']).doUpdateSet({ ciphertext: p.token, version: sql`integration_tokens.version + 1`, updated_at: new Date() }),
        )
        .execute();
    });
  }

  async setStatus(
    userId: string,
    provider: string,
    s: { status: string; errorCode?: string | null; error?: string | null; lastSyncAt?: Date; nextSyncAt?: Date | null; cursor?: Uint8Array | null },
  ): Promise<void> {
    await this.db
      .updateTable('integrations')
      .set({
        status: s.status,
        ...(s.errorCode !== undefined ? { error_code: s.errorCode } : {}),
        ...(s.error !== undefined ? { error: s.error } : {}),
        ...(s.lastSyncAt ? { last_sync_at: s.lastSyncAt } : {}),
        ...(s.nextSyncAt !== undefined ? { next_sync_at: s.nextSyncAt } : {}),
        ...(s.cursor !== undefined ? { cursor: s.cursor } : {}),
        updated_at: new Date(),
      })
      .where('user_id', '=', userId)
      .where('provider', '=', provider)
      .execute();
  }

  /**
   * Claims up to `limit` integrations whose sync is due, oldest first, and moves each one's next
   * sync a jittered interval ahead in the same statement. `skip locked` lets instances that tick
   * together each take different rows, so every due sync is started by exactly one instance.
   */
  async claimDue(now: Date, limit: number, intervalMs: number, jitter: number): Promise<Array<{ user_id: string; provider: string }>> {
    const r = await sql<{ user_id: string; provider: string }>`
      update integrations set
        status = 'connected',
        next_sync_at = ${now}::timestamptz + (${intervalMs}::float8 * (1 + ${jitter}::float8 * (random() * 2 - 1))) * interval '1 millisecond',
        updated_at = now()
      where id in (
        select id from integrations
        where status in ('connected', 'error') and next_sync_at <= ${now}
        order by next_sync_at
        limit ${limit}
        for update skip locked
      )
      returning user_id, provider`.execute(this.db);
    return r.rows;
  }

  async delete(userId: string, provider: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('integration_tokens').where('user_id', '=', userId).where('provider', '=', provider).execute();
      const r = await trx.deleteFrom('integrations').where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  // ---- integration_tokens ----

  getToken(userId: string, provider: string) {
    return this.db
      .selectFrom('integration_tokens')
      .select(['ciphertext', 'version'])
      .where('user_id', '=', userId)
      .where('provider', '=', provider)
      .executeTakeFirst();
  }

  /** Compare-and-swap: saves a rotated token only over the version it was refreshed from. */
  async swapToken(userId: string, provider: string, fromVersion: number, ciphertext: Uint8Array): Promise<boolean> {
    const r = await this.db
      .updateTable('integration_tokens')
      .set({ ciphertext, version: fromVersion + 1, updated_at: new Date() })
      .where('user_id', '=', userId)
      .where('provider', '=', provider)
      .where('version', '=', fromVersion)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteToken(userId: string, provider: string): Promise<void> {
    await this.db.deleteFrom('integration_tokens').where('user_id', '=', userId).where('provider', '=', provider).execute();
  }

  // ---- inbox ----

  async deposit(row: { id: string; userId: string; provider: string; kind: string; sealed: Uint8Array }): Promise<void> {
    await this.db.insertInto('inbox').values({ id: row.id, user_id: row.userId, provider: row.provider, kind: row.kind, sealed: row.sealed }).execute();
  }

  async hasInbox(userId: string, kinds: string[]): Promise<boolean> {
    if (kinds.length === 0) return false;
    const r = await this.db.selectFrom('inbox').select('id').where('user_id', '=', userId).where('kind', 'in', kinds).limit(1).executeTakeFirst();
    return !!r;
  }

  /**
   * Claims up to `limit` rows for this caller: rows unclaimed, or claimed so long ago that their
   * claimant must have died. Two API instances draining at once never get the same row.
   */
  async claim(userId: string, kinds: string[], limit: number, staleMs = 5 * 60_000) {
    if (kinds.length === 0) return [];
    const stale = new Date(Date.now() - staleMs);
    return this.db
      .updateTable('inbox')
      .set({ claimed_at: new Date() })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('inbox')
          .select('id')
          .where('user_id', '=', userId)
          .where('kind', 'in', kinds)
          .where((w) => w.or([w('claimed_at', 'is', null), w('claimed_at', '<', stale)]))
          .orderBy('created_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['id', 'provider', 'kind', 'sealed'])
      .execute();
  }

  async release(ids: string[]): Promise<void> {
    if (ids.length) await this.db.updateTable('inbox').set({ claimed_at: null }).where('id', 'in', ids).execute();
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.db.deleteFrom('inbox').where('id', 'in', ids).execute();
  }
}
