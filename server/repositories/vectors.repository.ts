import { sql } from 'kysely';
import type { Database } from '../db/index.js';

/** A sealed row of `item_vectors` (see migrations/0021_item_vectors.ts). */
export interface VectorRow {
  item_id: string;
  item_version: number;
  ciphertext: Uint8Array;
}

/** Rows opened into the index per query: bounds the memory a large vault's load holds at once. */
export const LOAD_PAGE = 500;

export class VectorsRepository {
  constructor(private readonly db: Database) {}

  /** Live items whose vectors are missing, older than the item, or made by another model. */
  stale(userId: string, modelMac: Uint8Array, limit: number): Promise<Array<{ id: string; version: number }>> {
    return this.db
      .selectFrom('vault_items as i')
      .leftJoin('item_vectors as v', 'v.item_id', 'i.id')
      .select(['i.id', 'i.version'])
      .where('i.user_id', '=', userId)
      .where('i.deleted_at', 'is', null)
      .where((eb) => eb.or([eb('v.item_id', 'is', null), eb('v.item_version', '<>', eb.ref('i.version')), eb('v.model_mac', '<>', modelMac)]))
      .orderBy('i.sort_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** Progress of the sweep: live items, and those whose vectors are current for this model. */
  async counts(userId: string, modelMac: Uint8Array): Promise<{ total: number; embedded: number }> {
    const r = await this.db
      .selectFrom('vault_items as i')
      .leftJoin('item_vectors as v', (j) => j.onRef('v.item_id', '=', 'i.id').onRef('v.item_version', '=', 'i.version').on('v.model_mac', '=', modelMac))
      .select([sql<string>`count(*)`.as('total'), sql<string>`count(v.item_id)`.as('embedded')])
      .where('i.user_id', '=', userId)
      .where('i.deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { total: Number(r.total), embedded: Number(r.embedded) };
  }

  /**
   * Live items of every owner with no vectors for their current version: the embedding backlog
   * gauge. The model is not compared (its mark is blinded per owner), so after a change of
   * embedding model the re-embedding shows in each owner's status, not here.
   */
  async backlog(): Promise<number> {
    const r = await this.db
      .selectFrom('vault_items as i')
      .leftJoin('item_vectors as v', (j) => j.onRef('v.item_id', '=', 'i.id').onRef('v.item_version', '=', 'i.version'))
      .select(sql<string>`count(*)`.as('n'))
      .where('i.deleted_at', 'is', null)
      .where('v.item_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Writes vectors unless newer ones (from a later item version) are already there. */
  async upsert(userId: string, rows: Array<{ itemId: string; itemVersion: number; modelMac: Uint8Array; ciphertext: Uint8Array }>): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('item_vectors')
      .values(rows.map((r) => ({ item_id: r.itemId, user_id: userId, item_version: r.itemVersion, model_mac: r.modelMac, ciphertext: r.ciphertext })))
      .onConflict((oc) =>
        oc
          .column('item_id')
          .doUpdateSet((eb) => ({
            item_version: eb.ref('excluded.item_version'),
            model_mac: eb.ref('excluded.model_mac'),
            ciphertext: eb.ref('excluded.ciphertext'),
          }))
          .where('item_vectors.item_version', '<=', (eb) => eb.ref('excluded.item_version')),
      )
      .execute();
  }

  /**
   * One page of the owner's current vectors (live items, this model), in item id order after
   * `afterId`: the index is loaded page by page.
   */
  page(userId: string, modelMac: Uint8Array, afterId: string | null): Promise<VectorRow[]> {
    let q = this.db
      .selectFrom('item_vectors as v')
      .innerJoin('vault_items as i', 'i.id', 'v.item_id')
      .select(['v.item_id', 'v.item_version', 'v.ciphertext'])
      .where('v.user_id', '=', userId)
      .where('v.model_mac', '=', modelMac)
      .where('i.deleted_at', 'is', null)
      .whereRef('v.item_version', '=', 'i.version');
    if (afterId) q = q.where('v.item_id', '>', afterId);
    return q.orderBy('v.item_id').limit(LOAD_PAGE).execute();
  }
}
