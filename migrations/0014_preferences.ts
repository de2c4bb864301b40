import { sql, type Kysely } from 'kysely';

/**
 * Two things the health views need (issue 17).
 *
 * One sealed row of display preferences per user (dashboard cards and their order, units): the
 * choice of kg or lb, or of which cards someone watches, says something about them, so it is
 * ciphertext like everything else they chose.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table user_preferences (
      user_id uuid primary key references users(id) on delete cascade,
      version int not null,
      ciphertext bytea not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  // Monthly roll-ups of the sealed daily stats, one sealed row per (type, year) holding its
  // months, keyed by the same per-user type MAC as series_chunks (never the clear type code), so a dashboard over five years opens a few dozen small ciphertexts instead of
  // thousands. Derived data: any write to a day of a series deletes that year's row in the same
  // transaction, and the next read rebuilds it.
  await sql`
    create table series_years (
      user_id uuid not null references users(id) on delete cascade,
      type_mac bytea not null,
      year int not null,
      stats bytea not null,
      primary key (user_id, type_mac, year)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table series_years`.execute(db);
  await sql`drop table user_preferences`.execute(db);
}
