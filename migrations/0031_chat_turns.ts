import { sql, type Kysely } from 'kysely';

/**
 * One turn at a time per chat across every instance on the database (409 `chat_busy`):
 * `chats.turn_id` is the turn holding the chat and `turn_until` until when its claim holds. The
 * instance running the turn renews it while it runs and clears it at the end; a claim whose time
 * ran out (its instance died) is free to take, so a crash does not lock a chat for good.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chats add column turn_id uuid`.execute(db);
  await sql`alter table chats add column turn_until timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chats drop column if exists turn_until`.execute(db);
  await sql`alter table chats drop column if exists turn_id`.execute(db);
}
