import { sql, type Kysely } from 'kysely';

/**
 * Personal API tokens (issue 18). Like `sessions`, a row holds only what a copy of the database
 * cannot use: `lookup_id` (HKDF of the token secret, label "cv1|api-token-lookup") to find the row,
 * and the vault key wrapped under another HKDF of the secret. The token's name is sealed under
 * the vault key; scopes and dates are in clear because the server enforces them before a request
 * runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table api_tokens (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      lookup_id bytea not null unique,
      wrapped_vk bytea not null,
      name_sealed bytea not null,
      scopes text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index api_tokens_user_idx on api_tokens (user_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists api_tokens`.execute(db);
}
