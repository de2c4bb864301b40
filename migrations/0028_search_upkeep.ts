import { sql, type Kysely } from 'kysely';

/** The posting columns, all sampled the same: ANALYZE's sample is 300 rows per unit of the largest target. */
const POSTING_COLUMNS = ['user_id', 'item_id', 'token', 'tf', 'dl', 'sort_at', 'kind'];

/**
 * Search that stays fast as a vault grows, and upkeep that does not stall it (issue 12).
 *
 * The posting lookup index carries every column BM25 reads (item, tf, dl, kind), so a search
 * reads a token's postings from a few contiguous index pages (an index-only scan) instead of one
 * heap page per posting: a posting's heap row lies wherever its item was written, and at 100k
 * items a two-word query touched thousands of pages, most outside PGlite's 32 MB of buffers.
 * Index-only scans need the visibility map, which VACUUM keeps: autovacuum on PostgreSQL, the
 * planner-statistics refresh on PGlite (`server/db/planner-stats.ts`).
 *
 * Cheaper ANALYZE for the tables that refresh keeps current. On
 * embedded PGlite each ANALYZE holds the server's only thread: at 10k items `analyze
 * search_terms` read 30,000 sampled rows of a 53 MB table for 100-500 ms and `vault_items`'
 * ciphertext added ~100 ms, in which no search or read moved (p99 of a search at 20 connections
 * is set by the longest such stall).
 * - Ciphertext columns get no statistics: no query compares, sorts or groups them, and their
 *   random bytes have no distribution to learn.
 * - Postings are sampled at target 10 (3,000 rows): their plans are chosen by the index on
 *   (user_id, token) and kept robust without statistics (see ItemsRepository.search); what the
 *   planner needs is the table's size and a rough per-token selectivity, not 100 common tokens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index search_terms_lookup_idx`.execute(db);
  await sql`create index search_terms_lookup_idx on search_terms (user_id, token, sort_at) include (item_id, tf, dl, kind)`.execute(db);
  for (const table of ['vault_items', 'series_chunks', 'tags']) {
    await sql`alter table ${sql.table(table)} alter column ciphertext set statistics 0`.execute(db);
  }
  await sql`alter table search_terms ${sql.join(
    POSTING_COLUMNS.map((c) => sql`alter column ${sql.ref(c)} set statistics 10`),
    sql`, `,
  )}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['vault_items', 'series_chunks', 'tags']) {
    await sql`alter table ${sql.table(table)} alter column ciphertext set statistics -1`.execute(db);
  }
  await sql`alter table search_terms ${sql.join(
    POSTING_COLUMNS.map((c) => sql`alter column ${sql.ref(c)} set statistics -1`),
    sql`, `,
  )}`.execute(db);
  await sql`drop index search_terms_lookup_idx`.execute(db);
  await sql`create index search_terms_lookup_idx on search_terms (user_id, token, sort_at)`.execute(db);
}
