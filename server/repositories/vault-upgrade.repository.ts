import { sql } from 'kysely';
import type { Database } from '../db/index.js';
import { BLIND_TOKEN_BYTES } from '../../crypto/index.js';
import { packTerms } from './items.repository.js';

/**
 * The vault format a user's rows are in: 1 = type codes still in clear (before migration 0011);
 * 2 = runs of Han, kana or Hangul indexed as one token each (before 0030).
 */
export const CURRENT_VAULT_FORMAT = 3;

export interface UpgradeRow {
  id: string;
  user_id: string;
  kind: string;
  legacy_type: string | null;
  version: number;
  ciphertext: Uint8Array;
}

/** An item's new postings, written only if the item is still at `expectedVersion`. */
export interface ReindexedItem {
  id: string;
  expectedVersion: number;
  termCount: number;
  terms: Array<{ token: Uint8Array; tf: number }>;
}

export interface UpgradedItem {
  id: string;
  expectedVersion: number;
  version: number;
  ciphertext: Uint8Array;
  typeMac: Uint8Array;
  termCount: number;
  terms: Array<{ token: Uint8Array; tf: number }>;
}

/** SQL of the unlock-time vault upgrade (server/services/vault-upgrade.service.ts). */
export class VaultUpgradeRepository {
  constructor(private readonly db: Database) {}

  async format(userId: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('users').select('vault_format').where('id', '=', userId).executeTakeFirst();
    return r?.vault_format;
  }

  async markUpgraded(userId: string): Promise<void> {
    await this.db.updateTable('users').set({ vault_format: CURRENT_VAULT_FORMAT }).where('id', '=', userId).execute();
  }

  async countPending(userId: string): Promise<number> {
    const r = await sql<{ n: string | number }>`select count(*) as n from vault_items where user_id = ${userId} and type_mac is null`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Items not yet upgraded, in id order after `after` (one pass: a row that cannot be read is not retried). */
  async pending(userId: string, after: string | null, limit: number): Promise<UpgradeRow[]> {
    const r = await sql<UpgradeRow>`
      select id, user_id, kind, legacy_type, version, ciphertext from vault_items
      where user_id = ${userId} and type_mac is null ${after ? sql`and id > ${after}::uuid` : sql``}
      order by id limit ${limit}`.execute(this.db);
    return r.rows;
  }

  async countAll(userId: string): Promise<number> {
    const r = await sql<{ n: string | number }>`select count(*) as n from vault_items where user_id = ${userId}`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Every item, trashed ones too, in id order after `after`. */
  async page(userId: string, after: string | null, limit: number): Promise<UpgradeRow[]> {
    const r = await sql<UpgradeRow>`
      select id, user_id, kind, legacy_type, version, ciphertext from vault_items
      where user_id = ${userId} ${after ? sql`and id > ${after}::uuid` : sql``}
      order by id limit ${limit}`.execute(this.db);
    return r.rows;
  }

  /**
   * Writes re-sealed items and their new postings in one transaction. A row changed since it
   * was read (its version moved) is left alone: every ordinary write already stores the new
   * format. Returns how many rows were written.
   */
  async apply(userId: string, items: UpgradedItem[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const updated = await sql<{ id: string; kind: string; sort_at: Date }>`
        update vault_items v
        set version = u.version, ciphertext = u.ciphertext, type_mac = u.type_mac, legacy_type = null, term_count = u.term_count
        from (values ${sql.join(
          items.map(
            (i) => sql`(${i.id}::uuid, ${i.expectedVersion}::int, ${i.version}::int, ${i.ciphertext}::bytea, ${i.typeMac}::bytea, ${i.termCount}::int)`,
          ),
        )}) as u(id, expected, version, ciphertext, type_mac, term_count)
        where v.user_id = ${userId} and v.id = u.id and v.version = u.expected and v.type_mac is null
        returning v.id, v.kind, v.sort_at`.execute(trx);
      await replacePostings(trx, userId, updated.rows, items);
      return updated.rows.length;
    });
  }

  /**
   * Replaces items' postings (the item itself is unchanged: same version, same ciphertext). A row
   * changed since it was read is left alone: its write indexed it anew. Returns how many were written.
   */
  async reindex(userId: string, items: ReindexedItem[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const updated = await sql<{ id: string; kind: string; sort_at: Date }>`
        update vault_items v set term_count = u.term_count
        from (values ${sql.join(items.map((i) => sql`(${i.id}::uuid, ${i.expectedVersion}::int, ${i.termCount}::int)`))}) as u(id, expected, term_count)
        where v.user_id = ${userId} and v.id = u.id and v.version = u.expected
        returning v.id, v.kind, v.sort_at`.execute(trx);
      await replacePostings(trx, userId, updated.rows, items);
      return updated.rows.length;
    });
  }
}

async function replacePostings(
  trx: Database,
  userId: string,
  rows: Array<{ id: string; kind: string; sort_at: Date }>,
  items: Array<{ id: string; terms: Array<{ token: Uint8Array; tf: number }> }>,
): Promise<void> {
  if (rows.length === 0) return;
  const byId = new Map(items.map((i) => [i.id, i]));
  await sql`delete from search_terms where item_id in (${sql.join(rows.map((r) => sql`${r.id}::uuid`))})`.execute(trx);
  const t = packTerms(
    rows.map((r) => ({
      row: { id: r.id, kind: r.kind, sort_at: r.sort_at, user_id: userId, source: '', ciphertext: new Uint8Array() },
      terms: byId.get(r.id)!.terms,
    })),
  );
  if (t.count) {
    await sql`
      insert into search_terms (user_id, item_id, token, tf, dl, sort_at, kind)
      select ${userId}::uuid, encode(substring(${t.itemIds}::bytea from (x.n::int - 1) * 16 + 1 for 16), 'hex')::uuid,
        substring(${t.tokens}::bytea from (x.n::int - 1) * ${BLIND_TOKEN_BYTES} + 1 for ${BLIND_TOKEN_BYTES}),
        x.tf, x.dl, to_timestamp(x.sort_ms / 1000.0), x.kind
      from unnest(${t.tf}::int[], ${t.dl}::int[], ${t.sortMs}::int8[], ${t.kind}::text[]) with ordinality as x(tf, dl, sort_ms, kind, n)`.execute(trx);
  }
}
