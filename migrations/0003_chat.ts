import { sql, type Kysely } from 'kysely';

/** Chat history: titles and messages (with the ids of cited items) are ciphertext only. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table chats (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      version integer not null default 1,
      ciphertext bytea not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index chats_user_idx on chats (user_id, updated_at desc)`.execute(db);
  await sql`
    create table chat_messages (
      id uuid primary key,
      chat_id uuid not null references chats(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      role text not null,
      version integer not null default 1,
      ciphertext bytea not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index chat_messages_chat_idx on chat_messages (chat_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists chat_messages`.execute(db);
  await sql`drop table if exists chats`.execute(db);
}
