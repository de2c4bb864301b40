import { sql, type Kysely } from 'kysely';

/**
 * Activity a person can read (issue 20). What an event says about the client (a coarse
 * "Chrome on Linux", never the raw user agent or address) is sealed to the owner's inbox public
 * key, so it can be written without the vault key (a failed sign-in) and read only in the owner's
 * unlocked session. Existing rows keep a null detail.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_log add column detail_sealed bytea`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_log drop column if exists detail_sealed`.execute(db);
}
