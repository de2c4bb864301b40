import { sql, type Kysely } from 'kysely';

/**
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table user_preferences`.execute(db);
}
