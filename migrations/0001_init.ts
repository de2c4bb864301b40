import { sql, type Kysely } from 'kysely';

/**
 * The encrypted vault core. Columns in clear are only what the server must filter or join on;
 * every `ciphertext` column is AES-256-GCM under a per-row key derived from the user's vault key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key,
      email text not null unique,
      kdf_params jsonb not null,
      key_version integer not null default 1,
      wrapped_vk_passphrase bytea not null,
      wrapped_vk_recovery bytea not null,
      inbox_public_key bytea not null,
      inbox_private_key_wrapped bytea not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table sessions (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      lookup_id bytea not null unique,
      wrapped_vk bytea not null,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index sessions_user_idx on sessions (user_id)`.execute(db);

  await sql`
    create table files (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      content_mac bytea not null,
      size bigint not null,
      version integer not null default 1,
      meta_ciphertext bytea not null,
      created_at timestamptz not null default now(),
      unique (user_id, content_mac)
    )`.execute(db);

  await sql`
    create table vault_items (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      kind text not null,
      source text not null,
      type text,
      occurred_at timestamptz,
      sort_at timestamptz not null,
      version integer not null default 1,
      term_count integer not null default 0,
      file_id uuid references files(id) on delete set null,
      external_mac bytea,
      ciphertext bytea not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz
    )`.execute(db);
  await sql`create index vault_items_list_idx on vault_items (user_id, sort_at desc, id desc)`.execute(db);
  await sql`create index vault_items_type_idx on vault_items (user_id, type, occurred_at)`.execute(db);
  await sql`create unique index vault_items_external_idx on vault_items (user_id, external_mac) where external_mac is not null`.execute(db);
  await sql`create index vault_items_file_idx on vault_items (file_id) where file_id is not null`.execute(db);

  await sql`
    create table tags (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      name_mac bytea not null,
      version integer not null default 1,
      ciphertext bytea not null,
      unique (user_id, name_mac)
    )`.execute(db);

  await sql`
    create table item_tags (
      item_id uuid not null references vault_items(id) on delete cascade,
      tag_id uuid not null references tags(id) on delete cascade,
      primary key (item_id, tag_id)
    )`.execute(db);
  await sql`create index item_tags_tag_idx on item_tags (tag_id)`.execute(db);

  await sql`
    create table search_terms (
      user_id uuid not null references users(id) on delete cascade,
      item_id uuid not null references vault_items(id) on delete cascade,
      token bytea not null,
      tf integer not null,
      -- the item's length in tokens, so BM25 never joins the items table per posting
      dl integer not null,
      primary key (item_id, token)
    )`.execute(db);
  await sql`create index search_terms_lookup_idx on search_terms (user_id, token)`.execute(db);

  await sql`
    create table audit_log (
      id bigserial primary key,
      user_id uuid references users(id) on delete cascade,
      action text not null,
      request_id text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index audit_log_user_idx on audit_log (user_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['audit_log', 'search_terms', 'item_tags', 'tags', 'vault_items', 'files', 'sessions', 'users']) {
    await sql`drop table if exists ${sql.table(t)}`.execute(db);
  }
}
