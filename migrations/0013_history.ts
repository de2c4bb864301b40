import { sql, type Kysely } from 'kysely';

/**
 * History, folders and permanent delete (issue 16).
 *
 * - `item_versions`: earlier states of an item, each sealed under the item's row key with its own
 *   AAD (table `item_versions`, the item id, the version number). In clear only what pruning and
 *   file clean-up need: the item, the version number, when it was saved and the file it pointed
 *   at (already in clear on the item). Deleting the item deletes its history.
 * - `folders`: a tree per user; the name is sealed (AAD table `folders`, the folder id, its
 *   version), the parent link is in clear so the database can walk a subtree.
 * - `vault_items.folder_id`: at most one folder per item. Deleting a folder moves its contents to
 *   the trash first (the service does that); the `set null` only covers rows missed by a race.
 * - `vault_items_trash_idx`: the retention purge finds expired trash without scanning live items.
 * - `item_files`: every file a record links (a FHIR record may carry several attachments; only the
 *   first is `vault_items.file_id`), so a purge, which has no key to read the sealed record, knows
 *   whether another item still uses a file. Records imported before this migration are not
 *   listed (their links are sealed); purging never deletes a file listed here for a live item.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table folders (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      parent_id uuid references folders(id) on delete cascade,
      version integer not null default 1,
      ciphertext bytea not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index folders_user_parent_idx on folders (user_id, parent_id)`.execute(db);
  await sql`create index folders_parent_idx on folders (parent_id) where parent_id is not null`.execute(db);

  await sql`alter table vault_items add column folder_id uuid references folders(id) on delete set null`.execute(db);
  await sql`create index vault_items_folder_idx on vault_items (user_id, folder_id) where folder_id is not null`.execute(db);
  await sql`create index vault_items_trash_idx on vault_items (deleted_at) where deleted_at is not null`.execute(db);

  await sql`
    create table item_versions (
      item_id uuid not null references vault_items(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      version integer not null,
      file_id uuid references files(id) on delete set null,
      ciphertext bytea not null,
      saved_at timestamptz not null,
      primary key (item_id, version)
    )`.execute(db);
  await sql`create index item_versions_file_idx on item_versions (file_id) where file_id is not null`.execute(db);

  await sql`
    create table item_files (
      item_id uuid not null references vault_items(id) on delete cascade,
      file_id uuid not null references files(id) on delete cascade,
      primary key (item_id, file_id)
    )`.execute(db);
  await sql`create index item_files_file_idx on item_files (file_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists item_files`.execute(db);
  await sql`drop table if exists item_versions`.execute(db);
  await sql`drop index if exists vault_items_trash_idx`.execute(db);
  await sql`drop index if exists vault_items_folder_idx`.execute(db);
  await sql`alter table vault_items drop column if exists folder_id`.execute(db);
  await sql`drop table if exists folders`.execute(db);
}
