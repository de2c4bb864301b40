import { sql, type Kysely } from 'kysely';

/**
 * Search reads runs of Han, kana and Hangul as characters and pairs of characters (crypto
 * `tokenize`); postings written before hold each run as one token, so "血压" never found
 * "高血压". The server cannot re-index what it cannot read: accounts that exist now stay at vault
 * format 2 and are re-indexed by their owner's next unlock (VaultUpgradeService); accounts made
 * from now on start at 3.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users alter column vault_format set default 3`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update users set vault_format = 2 where vault_format > 2`.execute(db);
  await sql`alter table users alter column vault_format set default 2`.execute(db);
}
