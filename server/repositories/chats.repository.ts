import { sql } from 'kysely';
import type { Database } from '../db/index.js';

export class ChatsRepository {
  constructor(private readonly db: Database) {}

  async create(row: { id: string; user_id: string; ciphertext: Uint8Array }): Promise<void> {
    await this.db
      .insertInto('chats')
      .values({ ...row, version: 1 })
      .execute();
  }

  get(userId: string, id: string) {
    return this.db.selectFrom('chats').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  }

  /**
   * Most recently updated first. Titles are sealed, so paging is by (updated_at, id) alone: `after`
   * is the last row of the previous page, and the id breaks ties so chats updated in the same
   * instant are neither repeated nor skipped. `cursor_at` is updated_at to the microsecond (a new
   * chat's is the database's `now()`): a JavaScript Date keeps milliseconds only, and paging from
   * a rounded time would skip chats updated within the same millisecond.
   */
  list(userId: string, limit: number, after?: { updatedAt: string; id: string }) {
    return this.db
      .selectFrom('chats')
      .selectAll()
      .select(sql<string>`to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
      .where('user_id', '=', userId)
      .$if(after !== undefined, (q) =>
        q.where((eb) => {
          const at = sql<Date>`cast(${after!.updatedAt} as timestamptz)`;
          return eb.or([eb('updated_at', '<', at), eb.and([eb('updated_at', '=', at), eb('id', '<', after!.id)])]);
        }),
      )
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /**
   * Claims the chat for turn `turnId` for `ms` (by the database's clock, the one every instance
   * shares) unless another turn's claim still holds: `taken`, `busy`, or `missing` (no such chat
   * of this user).
   */
  async claimTurn(userId: string, id: string, turnId: string, ms: number): Promise<'taken' | 'busy' | 'missing'> {
    const r = await this.db
      .updateTable('chats')
      .set({ turn_id: turnId, turn_until: sql<Date>`now() + cast(${ms} as integer) * interval '1 millisecond'` })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('turn_until', 'is', null), eb('turn_until', '<', sql<Date>`now()`)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return 'taken';
    return (await this.get(userId, id)) ? 'busy' : 'missing';
  }

  /** Extends turn `turnId`'s claim by `ms` from now; false when it no longer holds the chat. */
  async renewTurn(userId: string, id: string, turnId: string, ms: number): Promise<boolean> {
    const r = await this.db
      .updateTable('chats')
      .set({ turn_until: sql<Date>`now() + cast(${ms} as integer) * interval '1 millisecond'` })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('turn_id', '=', turnId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Frees the chat, if turn `turnId` still holds it (a turn whose claim ran out frees nothing). */
  async endTurn(userId: string, id: string, turnId: string): Promise<void> {
    await this.db
      .updateTable('chats')
      .set({ turn_id: null, turn_until: null })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('turn_id', '=', turnId)
      .execute();
  }

  async touch(userId: string, id: string): Promise<void> {
    await this.db.updateTable('chats').set({ updated_at: new Date() }).where('user_id', '=', userId).where('id', '=', id).execute();
  }

  /** Re-sealed title under a bumped row version; returns the new update time. */
  async updateTitle(userId: string, id: string, ciphertext: Uint8Array, version: number): Promise<Date> {
    const updatedAt = new Date();
    await this.db.updateTable('chats').set({ ciphertext, version, updated_at: updatedAt }).where('user_id', '=', userId).where('id', '=', id).execute();
    return updatedAt;
  }

  message(userId: string, chatId: string, id: string) {
    return this.db.selectFrom('chat_messages').selectAll().where('user_id', '=', userId).where('chat_id', '=', chatId).where('id', '=', id).executeTakeFirst();
  }

  async updateMessage(userId: string, id: string, ciphertext: Uint8Array, version: number): Promise<void> {
    await this.db.updateTable('chat_messages').set({ ciphertext, version }).where('user_id', '=', userId).where('id', '=', id).execute();
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('chats').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async addMessages(rows: Array<{ id: string; chat_id: string; user_id: string; role: string; ciphertext: Uint8Array; created_at: Date }>): Promise<void> {
    await this.db
      .insertInto('chat_messages')
      .values(rows.map((r) => ({ ...r, version: 1 })))
      .execute();
  }

  /** The most recent messages of a chat, newest first. */
  lastMessages(userId: string, chatId: string, limit: number) {
    return this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('user_id', '=', userId)
      .where('chat_id', '=', chatId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  messages(userId: string, chatId: string) {
    return this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('user_id', '=', userId)
      .where('chat_id', '=', chatId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }
}
