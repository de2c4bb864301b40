import { sql, type Kysely } from 'kysely';

/** The posting columns, all sampled the same: ANALYZE's sample is 300 rows per unit of the largest target. */
const POSTING_COLUMNS = ['user_id', 'item_id', 'token', 'tf', 'dl', 'sort_at', 'kind'];

/**
 * Cheaper ANALYZE for the tables the planner-statistics refresh keeps current (issue 12). On
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
}
