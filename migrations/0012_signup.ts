import { sql, type Kysely } from 'kysely';

/**
 * Sign-up policy (SIGNUP=open|invite|closed).
 *
 * - `invites`: single-use codes. Only a SHA-256 of the code is stored (codes carry 100 random
 *   bits, so a plain hash is enough), so a copy of the database cannot be used to sign up.
 *   `used_at` is set when a registration takes the code.
 * - `users.is_admin`: an admin account may create invites. The first account of an instance
 *   becomes admin; `npm run invite -- --admin <email>` grants it to another.
 *
 * Also (issue 11, same migration number): `users.inbox_public_key_mac`, an HMAC of the inbox
 * public key under a SERVER_KEY-derived key, written once a signed-in session has checked the
 * public key against the vault-sealed private key; the sync worker seals only to a key whose
 * MAC verifies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table invites (
      id uuid primary key,
      code_hash bytea not null unique,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      used_by uuid references users(id) on delete set null
    )`.execute(db);
  await sql`alter table users add column is_admin boolean not null default false`.execute(db);
  // An existing install's first account is its admin (else the next stranger to sign up would be).
  await sql`update users set is_admin = true where id = (select id from users order by created_at, id limit 1)`.execute(db);
  await sql`alter table users add column inbox_public_key_mac bytea`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column if exists inbox_public_key_mac`.execute(db);
  await sql`alter table users drop column if exists is_admin`.execute(db);
  await sql`drop table if exists invites`.execute(db);
}
