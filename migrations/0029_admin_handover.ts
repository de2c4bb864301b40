import { sql, type Kysely } from 'kysely';

/**
 * An instance with accounts always has an admin (issue: after the only admin deleted their
 * account, the next stranger to sign up became admin, and the older accounts never did).
 *
 * Deleting an admin's row runs `users_keep_admin`: when no admin is left, the oldest remaining
 * account (by `created_at`, then id, as 0012 chose the first admin) becomes one, inside the
 * deleting transaction, so no moment exists in which accounts remain without an admin. A trigger
 * rather than code in one service: accounts are deleted by account deletion, by a Google sign-up
 * that lost a race, and by operators by hand, and each must hand admin on.
 *
 * The hand-over and the sign-up's "first account becomes admin" (InvitesRepository.ensureAdmin)
 * take the same transaction-scoped advisory lock before looking, so on PostgreSQL a sign-up
 * racing the last admin's deletion, or two sign-ups on an empty instance, are decided one after
 * the other on committed rows: exactly one admin, never none, never two.
 *
 * Installs already in the broken state (accounts, no admin) get their oldest account as admin.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function users_keep_admin() returns trigger language plpgsql as $$
    begin
      -- The key is InvitesRepository's ADMIN_LOCK: the same number in both places.
      perform pg_advisory_xact_lock(7201746391002029);
      if not exists (select 1 from users where is_admin) then
        update users set is_admin = true where id = (select id from users order by created_at, id limit 1);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger users_keep_admin after delete on users
    for each row when (old.is_admin) execute function users_keep_admin()`.execute(db);
  await sql`
    update users set is_admin = true
    where id = (select id from users order by created_at, id limit 1) and not exists (select 1 from users where is_admin)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists users_keep_admin on users`.execute(db);
  await sql`drop function if exists users_keep_admin()`.execute(db);
}
