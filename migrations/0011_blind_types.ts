import { sql, type Kysely } from 'kysely';

/**
 * Type codes and job outcomes leave the clear columns (issue 10). The server cannot compute a
 * user's MACs or seal for them without their keys, so this only makes room: the old clear
 * columns become `legacy_*` and are emptied row by row by each owner's vault upgrade, which runs
 * the first time they unlock after this migration (server/services/vault-upgrade.service.ts).
 * `users.vault_format` says whether that has happened: 1 for existing accounts, 2 for new ones.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column vault_format integer not null default 1`.execute(db);
  await sql`alter table users alter column vault_format set default 2`.execute(db);

  await sql`alter table vault_items rename column type to legacy_type`.execute(db);
  await sql`alter table vault_items add column type_mac bytea`.execute(db);
  await sql`drop index if exists vault_items_type_idx`.execute(db);
  await sql`create index vault_items_type_idx on vault_items (user_id, type_mac, occurred_at)`.execute(db);
  await sql`create index vault_items_legacy_type_idx on vault_items (user_id, legacy_type) where legacy_type is not null`.execute(db);
  await sql`create index vault_items_upgrade_idx on vault_items (user_id, id) where type_mac is null`.execute(db);

  await sql`alter table series_chunks drop constraint series_chunks_pkey`.execute(db);
  await sql`alter table series_chunks rename column type to legacy_type`.execute(db);
  await sql`alter table series_chunks alter column legacy_type drop not null`.execute(db);
  await sql`alter table series_chunks add column type_mac bytea`.execute(db);
  await sql`create unique index series_chunks_mac_idx on series_chunks (user_id, type_mac, date)`.execute(db);
  await sql`create unique index series_chunks_legacy_idx on series_chunks (user_id, legacy_type, date) where legacy_type is not null`.execute(db);
  await sql`alter table series_chunks add constraint series_chunks_type_check check ((type_mac is null) <> (legacy_type is null))`.execute(db);

  await sql`
    create table series_types (
      user_id uuid not null references users(id) on delete cascade,
      type_mac bytea not null,
      version integer not null default 1,
      ciphertext bytea not null,
      primary key (user_id, type_mac)
    )`.execute(db);

  await sql`alter table jobs rename column result to legacy_result`.execute(db);
  await sql`alter table jobs rename column error to legacy_error`.execute(db);
  await sql`alter table jobs add column sealed bytea`.execute(db);
  await sql`alter table jobs add column error_code text`.execute(db);
  // Existing failures get a code now; their messages stay readable to the owner until the upgrade seals them.
  await sql`update jobs set error_code = 'failed' where legacy_error is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Only a database no owner has upgraded goes back: upgraded rows hold nothing the old code can read.
  await sql`alter table jobs drop column error_code`.execute(db);
  await sql`alter table jobs drop column sealed`.execute(db);
  await sql`alter table jobs rename column legacy_error to error`.execute(db);
  await sql`alter table jobs rename column legacy_result to result`.execute(db);
  await sql`drop table series_types`.execute(db);
  await sql`delete from series_chunks where legacy_type is null`.execute(db);
  await sql`alter table series_chunks drop constraint series_chunks_type_check`.execute(db);
  await sql`drop index series_chunks_legacy_idx`.execute(db);
  await sql`drop index series_chunks_mac_idx`.execute(db);
  await sql`alter table series_chunks drop column type_mac`.execute(db);
  await sql`alter table series_chunks rename column legacy_type to type`.execute(db);
  await sql`alter table series_chunks alter column type set not null`.execute(db);
  await sql`alter table series_chunks add primary key (user_id, type, date)`.execute(db);
  await sql`drop index vault_items_upgrade_idx`.execute(db);
  await sql`drop index vault_items_legacy_type_idx`.execute(db);
  await sql`drop index vault_items_type_idx`.execute(db);
  await sql`alter table vault_items drop column type_mac`.execute(db);
  await sql`alter table vault_items rename column legacy_type to type`.execute(db);
  await sql`create index vault_items_type_idx on vault_items (user_id, type, occurred_at)`.execute(db);
  await sql`alter table users drop column vault_format`.execute(db);
}
