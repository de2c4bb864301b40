import { sql, type Kysely } from 'kysely';

/**
 * Embeddings of items (issue 15). One row per item holds every chunk's vector of that item,
 * int8-quantized and sealed under the owner's `vectors` subkey: nothing in clear ranks or groups
 * them. `item_version` is the item version the vectors were computed from and `model_mac` a
 * keyed MAC of the embedding model's name, so the background sweep finds what changed (or was
 * embedded with another model) without opening anything.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table item_vectors (
      item_id uuid primary key references vault_items(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      item_version integer not null,
      model_mac bytea not null,
      ciphertext bytea not null
    )`.execute(db);
  await sql`create index item_vectors_user_idx on item_vectors (user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists item_vectors`.execute(db);
}
