import { sql, type Kysely } from 'kysely';

/**
 * Google sign-in and connected health accounts.
 *
 * - `users.google_sub`: HMAC-SHA256 under a key derived from SERVER_KEY over `<issuer>|<sub>`,
 *   not the sub itself: sign-in must find the account without the user's keys (so it cannot be
 *   vault-encrypted), and a copy of the database alone then does not say which Google account
 *   owns which vault.
 * - `integration_tokens.ciphertext`: the refresh token (and launch context), sealed under
 *   SERVER_KEY with AAD binding user and provider. `version` makes rotation compare-and-swap.
 * - `integrations.cursor`: sealed under SERVER_KEY too (sync position per data type).
 * - `inbox.sealed`: HPKE to the user's inbox public key; only the user's vault key opens it.
 *   `kind` (records | samples) lets each be moved into the vault by the store that handles it;
 *   `claimed_at` lets one API instance claim rows so two never store the same batch twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column google_sub bytea unique`.execute(db);

  await sql`
    create table integrations (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      provider text not null,
      endpoint text,
      status text not null,
      last_sync_at timestamptz,
      next_sync_at timestamptz,
      error_code text,
      error text,
      cursor bytea,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (user_id, provider)
    )`.execute(db);
  await sql`create index integrations_due_idx on integrations (status, next_sync_at)`.execute(db);

  await sql`
    create table integration_tokens (
      user_id uuid not null references users(id) on delete cascade,
      provider text not null,
      version integer not null default 1,
      ciphertext bytea not null,
      updated_at timestamptz not null default now(),
      primary key (user_id, provider)
    )`.execute(db);

  await sql`
    create table inbox (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      provider text not null,
      kind text not null,
      sealed bytea not null,
      claimed_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index inbox_user_idx on inbox (user_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['inbox', 'integration_tokens', 'integrations']) {
    await sql`drop table if exists ${sql.table(t)}`.execute(db);
  }
  await sql`alter table users drop column if exists google_sub`.execute(db);
}
