import { sql, type Kysely } from 'kysely';

/**
 * Faster chat retrieval.
 *
 * - `search_terms.sort_at` and `.kind`: copies of the item's, so BM25 with a date or kind
 *   filter reads postings alone instead of joining `vault_items` per posting. Nothing new is in
 *   clear: each posting already names its item, whose `sort_at` and `kind` are in clear. The
 *   lookup index gains `sort_at`, so a date-filtered query reads only the postings in range.
 * - `series_chunks.stats`: the chunk's unit and daily statistics sealed on their own (same row
 *   key, AAD naming the stats column and the chunk's version), so daily summaries do not decrypt
 *   every sample. Existing chunks have none until they are next written; readers then fall
 *   back to the chunk itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table search_terms add column sort_at timestamptz, add column kind text`.execute(db);
  await sql`
    update search_terms st set sort_at = i.sort_at, kind = i.kind
    from vault_items i where i.id = st.item_id`.execute(db);
  await sql`alter table search_terms alter column sort_at set not null, alter column kind set not null`.execute(db);
  await sql`drop index search_terms_lookup_idx`.execute(db);
  await sql`create index search_terms_lookup_idx on search_terms (user_id, token, sort_at)`.execute(db);

  await sql`alter table series_chunks add column stats bytea`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table series_chunks drop column stats`.execute(db);
  await sql`drop index search_terms_lookup_idx`.execute(db);
  await sql`create index search_terms_lookup_idx on search_terms (user_id, token)`.execute(db);
  await sql`alter table search_terms drop column sort_at, drop column kind`.execute(db);
}
