import { sql, type Insertable, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Database } from '../db/index.js';
import { compileOnce, compilePerShape } from './compile-once.js';
import type { DB, VaultItemsTable } from '../db/types.js';
import { BLIND_TOKEN_BYTES } from '../../crypto/index.js';

type Executor = Database | Transaction<DB>;

/** Candidates ranked beyond a search page, so that trashed items among them do not shorten it. */
const TRASH_SLACK = 20;
/** Rows per corpus-statistics slice: about 10 ms of PGlite's thread each. */
const CORPUS_SLICE = 1000;

export interface ItemFilter {
  userId: string;
  kind?: string;
  source?: string;
  /** A type code as its MAC, and readable for rows not yet upgraded (see {@link TypeLookup}). */
  type?: TypeLookup;
  tagMac?: Uint8Array;
  from?: Date;
  to?: Date;
  deleted: boolean;
  /** Only items filed in one of these folders; null: only items in no folder. */
  folderIds?: string[] | null;
  limit: number;
  cursor?: { sortAt: Date; id: string };
}

/** What a search may be narrowed to, like the item list: the item's own columns beyond its postings' kind and date. */
export interface SearchFilter {
  kind?: string;
  from?: Date;
  to?: Date;
  source?: string;
  /** The tag's name, for a filter applied to decrypted items (vector hits); SQL uses `tagMac`. */
  tag?: string;
  tagMac?: Uint8Array;
  /** Only items filed in one of these folders; null: only items in no folder. */
  folderIds?: string[] | null;
}

/** The source, folder and tag conditions of a search, checked on the item each posting belongs to. */
function searchItemFilter(userId: string, f: SearchFilter | undefined) {
  if (!f || (f.source === undefined && f.folderIds === undefined && f.tagMac === undefined)) return sql``;
  if (Array.isArray(f.folderIds) && f.folderIds.length === 0) return sql`and false`;
  return sql`and exists (
    select 1 from vault_items v
    where v.id = p.item_id and v.user_id = ${userId}
      ${f.source !== undefined ? sql`and v.source = ${f.source}` : sql``}
      ${f.folderIds === null ? sql`and v.folder_id is null` : sql``}
      ${Array.isArray(f.folderIds) ? sql`and v.folder_id in (${sql.join(f.folderIds)})` : sql``}
      ${
        f.tagMac !== undefined
          ? sql`and exists (
              select 1 from item_tags it join tags t on t.id = it.tag_id
              where it.item_id = v.id and t.user_id = ${userId} and t.name_mac = ${f.tagMac}::bytea)`
          : sql``
      }
  )`;
}

/**
 * A type code to look up: its keyed MAC (`type_mac`), and the code itself, which matches only
 * rows written before 0011 whose owner's vault upgrade has not reached them yet (`legacy_type`).
 */
export interface TypeLookup {
  mac: Uint8Array;
  code: string;
}

const itemColumns = [
  'id',
  'user_id',
  'kind',
  'source',
  'legacy_type',
  'occurred_at',
  'sort_at',
  'version',
  'file_id',
  'ciphertext',
  'created_at',
  'updated_at',
  'deleted_at',
  'folder_id',
] as const;

type ItemRow = { [K in (typeof itemColumns)[number]]: Selectable<VaultItemsTable>[K] };

/** An item's columns but its ciphertext, which is fetched apart: a page's rows before they are opened. */
const pageColumns = itemColumns.filter((c): c is Exclude<(typeof itemColumns)[number], 'ciphertext'> => c !== 'ciphertext');

/**
 * Ciphertexts a page's query carries inline: the rest are fetched apart, in bounded batches. A
 * page of ordinary items (notes, records) then costs one query, and at most a page's limit times
 * this, whatever the size of its documents.
 */
export const INLINE_CIPHERTEXT_BYTES = 16 * 1024;

/** A row of a page: its ciphertext only when small (else null, fetched apart), and its size (see ItemsService.openPage). */
export type PageRow = Omit<ItemRow, 'ciphertext'> & { ciphertext: Uint8Array | null; ciphertext_bytes: number };

/** A page's ciphertext (inline when small, else null) and its size, from the column `ref`. */
const inlineCiphertext = (ref: string) =>
  sql<Uint8Array | null>`case when octet_length(${sql.ref(ref)}) <= ${sql.lit(INLINE_CIPHERTEXT_BYTES)} then ${sql.ref(ref)} end`;
const ciphertextBytes = (ref: string) => sql<number>`octet_length(${sql.ref(ref)})`;
const pageCiphertext = (ref: string) => [inlineCiphertext(ref).as('ciphertext'), ciphertextBytes(ref).as('ciphertext_bytes')];

/**
 * An import writes tens of thousands of postings per batch. As one VALUES row of seven
 * parameters each, parameter handling and planning dominate (measured ~60-120 us a posting on
 * PGlite); packed into a few arrays and two byte strings (tokens and item ids, fixed-width),
 * the statement carries seven parameters whatever its size.
 */
export function packTerms(entries: Array<{ row: Insertable<VaultItemsTable>; terms: Array<{ token: Uint8Array; tf: number }> }>) {
  const count = entries.reduce((n, e) => n + e.terms.length, 0);
  const itemIds = Buffer.allocUnsafe(count * 16);
  const tokens = Buffer.allocUnsafe(count * BLIND_TOKEN_BYTES);
  const tf = new Array<number>(count);
  const dl = new Array<number>(count);
  const sortMs = new Array<number>(count);
  const kind = new Array<string>(count);
  let k = 0;
  for (const e of entries) {
    const id = Buffer.from(e.row.id!.replaceAll('-', ''), 'hex');
    const n = e.terms.reduce((sum, t) => sum + t.tf, 0);
    const ms = new Date(e.row.sort_at as Date | string).getTime();
    for (const t of e.terms) {
      if (t.token.length !== BLIND_TOKEN_BYTES) throw new RangeError('a blind-index token has the wrong length');
      id.copy(itemIds, k * 16);
      tokens.set(t.token, k * BLIND_TOKEN_BYTES);
      tf[k] = t.tf;
      dl[k] = n;
      sortMs[k] = ms;
      kind[k] = e.row.kind!;
      k++;
    }
  }
  return { count, itemIds, tokens, tf, dl, sortMs, kind };
}

export class ItemsRepository {
  /** `onWrite` hears how many items each write touched (see PlannerStats). */
  constructor(
    private readonly db: Database,
    private readonly onWrite: (items: number) => void = () => {},
  ) {}

  /** Every item read goes through this one statement (see compileOnce). */
  readonly #get = compileOnce(
    2,
    (userId: string, id: string) => this.db.selectFrom('vault_items').select(itemColumns).where('user_id', '=', userId).where('id', '=', id),
    { pointRead: true },
  );

  /** {@link get}, locking the row until the transaction ends (FOR UPDATE): a save reads what it replaces. */
  readonly #getForUpdate = compileOnce(2, (userId: string, id: string) =>
    this.db.selectFrom('vault_items').select(itemColumns).where('user_id', '=', userId).where('id', '=', id).forUpdate(),
  );

  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /**
   * Inserts items with their blind-index terms and tags in as few statements as possible: one
   * data-modifying CTE per batch, atomic on its own. Postgres checks the foreign keys at the end
   * of the statement, so rows inserted by sibling CTEs satisfy them.
   */
  async insertWithIndex(
    userId: string,
    entries: Array<{
      row: Insertable<VaultItemsTable>;
      terms: Array<{ token: Uint8Array; tf: number }>;
      tags: Array<{ id: string; nameMac: Uint8Array; ciphertext: Uint8Array }>;
    }>,
    trx: Executor = this.db,
  ): Promise<void> {
    const MAX_PARAMS = 30_000;
    const batches: Array<typeof entries> = [];
    let batch: typeof entries = [];
    let params = 0;
    for (const e of entries) {
      // Postings travel packed (see packTerms): they count for their bytes, not as parameters.
      const cost = 14 + Math.ceil(e.terms.length / 8) + e.tags.length * 6;
      if (params + cost > MAX_PARAMS && batch.length) {
        batches.push(batch);
        batch = [];
        params = 0;
      }
      batch.push(e);
      params += cost;
    }
    if (batch.length) batches.push(batch);
    // Several statements are made atomic together by a transaction, unless the caller's is open.
    if (batches.length > 1 && trx === this.db)
      await this.transaction(async (t) => {
        for (const b of batches) await this.#insertBatch(userId, b, t);
      });
    else for (const b of batches) await this.#insertBatch(userId, b, trx);
    this.onWrite(entries.length);
  }

  async #insertBatch(userId: string, entries: Parameters<ItemsRepository['insertWithIndex']>[1], trx: Executor): Promise<void> {
    const items = sql.join(
      entries.map(
        ({ row: r }) =>
          sql`(${r.id}::uuid, ${userId}::uuid, ${r.kind}, ${r.source}, ${r.type_mac ?? null}::bytea, ${r.occurred_at ?? null}::timestamptz,
          ${r.sort_at}::timestamptz, ${r.version ?? 1}, ${r.term_count ?? 0}, ${r.file_id ?? null}::uuid, ${r.external_mac ?? null}::bytea,
          ${r.ciphertext}::bytea, ${r.created_at}::timestamptz, ${r.updated_at}::timestamptz)`,
      ),
    );
    const terms = packTerms(entries);
    const tagByMac = new Map<string, { id: string; nameMac: Uint8Array; ciphertext: Uint8Array }>();
    const links: Array<{ itemId: string; mac: Uint8Array }> = [];
    for (const e of entries) {
      for (const t of e.tags) {
        const key = Buffer.from(t.nameMac).toString('hex');
        if (!tagByMac.has(key)) tagByMac.set(key, t);
        links.push({ itemId: e.row.id, mac: t.nameMac });
      }
    }
    const tags = [...tagByMac.values()];
    const linkValues = sql.join(links.map((l) => sql`(${l.itemId}::uuid, ${l.mac}::bytea)`));
    const { rows } = await sql<{ linked: number }>`
      with new_items as (
        insert into vault_items (id, user_id, kind, source, type_mac, occurred_at, sort_at, version, term_count, file_id,
          external_mac, ciphertext, created_at, updated_at)
        values ${items}
      )
      ${
        terms.count
          ? sql`, new_terms as (
              insert into search_terms (user_id, item_id, token, tf, dl, sort_at, kind)
              select ${userId}::uuid, encode(substring(${terms.itemIds}::bytea from (t.n::int - 1) * 16 + 1 for 16), 'hex')::uuid,
                substring(${terms.tokens}::bytea from (t.n::int - 1) * ${BLIND_TOKEN_BYTES} + 1 for ${BLIND_TOKEN_BYTES}),
                t.tf, t.dl, to_timestamp(t.sort_ms / 1000.0), t.kind
              from unnest(${terms.tf}::int[], ${terms.dl}::int[], ${terms.sortMs}::int8[], ${terms.kind}::text[]) with ordinality as t(tf, dl, sort_ms, kind, n)
            )`
          : sql``
      }
      ${
        tags.length
          ? sql`, new_tags as (
              insert into tags (id, user_id, name_mac, ciphertext)
              values ${sql.join(tags.map((t) => sql`(${t.id}::uuid, ${userId}::uuid, ${t.nameMac}::bytea, ${t.ciphertext}::bytea)`))}
              -- No conflict target: a reused sealed row (see ItemsService) may also meet its own id.
              on conflict do nothing
              returning id, name_mac
            ),
            all_tags as (
              select id, name_mac from new_tags
              union all
              select id, name_mac from tags where user_id = ${userId} and name_mac in (${sql.join(tags.map((t) => sql`${t.nameMac}::bytea`))})
            ),
            new_links as (
              insert into item_tags (item_id, tag_id)
              select distinct v.item_id, a.id
              from (values ${linkValues}) as v(item_id, name_mac)
              join all_tags a on a.name_mac = v.name_mac
              returning item_id
            )`
          : sql``
      }
      select ${tags.length ? sql`(select count(*) from new_links)::int` : sql`0`} as linked
    `.execute(trx);
    // A tag another transaction inserted and had not committed when this statement began: our
    // insert waited for it and did nothing, but this statement's snapshot cannot see the row, so
    // its links were not made. A new statement sees it.
    // (An item's tags are distinct: ItemsService cleans them. Were one repeated, the second
    // statement would only find every link made and do nothing.)
    if (rows[0]!.linked < links.length)
      await sql`
        insert into item_tags (item_id, tag_id)
        select distinct v.item_id, t.id
        from (values ${linkValues}) as v(item_id, name_mac)
        join tags t on t.user_id = ${userId} and t.name_mac = v.name_mac
        on conflict do nothing
      `.execute(trx);
  }

  findByExternalMacs(userId: string, macs: Uint8Array[], trx: Executor = this.db) {
    if (macs.length === 0) return Promise.resolve([]);
    return trx
      .selectFrom('vault_items')
      .select([...itemColumns, 'external_mac'])
      .where('user_id', '=', userId)
      .where('external_mac', 'in', macs)
      .execute();
  }

  async insert(row: Insertable<VaultItemsTable>, trx: Executor = this.db): Promise<void> {
    await trx.insertInto('vault_items').values(row).execute();
  }

  async get(userId: string, id: string, trx: Executor = this.db): Promise<ItemRow | undefined> {
    return (await this.#get(trx, userId, id)).rows[0];
  }

  /**
   * The row, locked until `trx` ends: saves of one item run one after another, each on the
   * version the previous one left, instead of all reading the same version and all but the
   * first finding it gone.
   */
  async getForUpdate(userId: string, id: string, trx: Transaction<DB>): Promise<ItemRow | undefined> {
    return (await this.#getForUpdate(trx, userId, id)).rows[0];
  }

  getMany(userId: string, ids: string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('vault_items').select(itemColumns).where('user_id', '=', userId).where('id', 'in', ids).where('deleted_at', 'is', null).execute();
  }

  /** Live items by id as {@link list} answers with them, large ciphertexts left out (vector hits of a search page). */
  pageRows(userId: string, ids: string[]): Promise<PageRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('vault_items')
      .select(pageColumns)
      .select(pageCiphertext('ciphertext'))
      .where('user_id', '=', userId)
      .where('id', 'in', ids)
      .where('deleted_at', 'is', null)
      .execute();
  }

  /**
   * The rows of a page's batch, ciphertexts included, trashed or not: the batch is a page the
   * caller already selected. Rows as they are now, so each ciphertext comes with the version it
   * was sealed for; a row deleted since is missing.
   */
  withCiphertexts(userId: string, ids: string[]): Promise<ItemRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('vault_items').select(itemColumns).where('user_id', '=', userId).where('id', 'in', ids).execute();
  }

  findByExternalMac(userId: string, mac: Uint8Array, trx: Executor = this.db) {
    return trx
      .selectFrom('vault_items')
      .select(['id', 'version', 'deleted_at'])
      .where('user_id', '=', userId)
      .where('external_mac', '=', mac)
      .executeTakeFirst();
  }

  findByFile(userId: string, fileId: string) {
    return this.db
      .selectFrom('vault_items')
      .select(itemColumns)
      .where('user_id', '=', userId)
      .where('file_id', '=', fileId)
      .orderBy('created_at')
      .executeTakeFirst();
  }

  /** A page of the item list, large ciphertexts left out: the caller fetches them in bounded batches ({@link withCiphertexts}). */
  list(f: ItemFilter): Promise<PageRow[]> {
    return this.db
      .selectFrom('vault_items as i')
      .select(pageColumns.map((c) => `i.${c}` as const))
      .select(pageCiphertext('i.ciphertext'))
      .where('i.user_id', '=', f.userId)
      .where('i.deleted_at', f.deleted ? 'is not' : 'is', null)
      .$if(f.kind !== undefined, (q) => q.where('i.kind', '=', f.kind!))
      .$if(f.source !== undefined, (q) => q.where('i.source', '=', f.source!))
      .$if(f.type !== undefined, (q) =>
        q.where((eb) => eb.or([eb('i.type_mac', '=', f.type!.mac), eb.and([eb('i.legacy_type', 'is not', null), eb('i.legacy_type', '=', f.type!.code)])])),
      )
      .$if(f.from !== undefined, (q) => q.where('i.sort_at', '>=', f.from!))
      .$if(f.to !== undefined, (q) => q.where('i.sort_at', '<=', f.to!))
      .$if(f.folderIds === null, (q) => q.where('i.folder_id', 'is', null))
      .$if(Array.isArray(f.folderIds), (q) => (f.folderIds!.length ? q.where('i.folder_id', 'in', f.folderIds!) : q.where(sql<boolean>`false`)))
      .$if(f.tagMac !== undefined, (q) =>
        q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('item_tags as it')
              .innerJoin('tags as t', 't.id', 'it.tag_id')
              .select(sql`1`.as('one'))
              .whereRef('it.item_id', '=', 'i.id')
              .where('t.user_id', '=', f.userId)
              .where('t.name_mac', '=', f.tagMac!),
          ),
        ),
      )
      .$if(f.cursor !== undefined, (q) =>
        q.where((eb) => eb.or([eb('i.sort_at', '<', f.cursor!.sortAt), eb.and([eb('i.sort_at', '=', f.cursor!.sortAt), eb('i.id', '<', f.cursor!.id)])])),
      )
      .orderBy('i.sort_at', 'desc')
      .orderBy('i.id', 'desc')
      .limit(f.limit)
      .execute();
  }

  /**
   * The most recent live items matching any of the given types or tags (chat retrieval of
   * "my medications", "my blood pressure"), newest first.
   */
  recent(f: { userId: string; types?: TypeLookup[]; tagMacs?: Uint8Array[]; kinds?: string[]; from?: Date; to?: Date; limit: number }) {
    const types = f.types ?? [];
    const tagMacs = f.tagMacs ?? [];
    const kinds = f.kinds ?? [];
    if (!types.length && !tagMacs.length && !kinds.length) return Promise.resolve([]);
    return this.db
      .selectFrom('vault_items as i')
      .select(itemColumns.map((c) => `i.${c}` as const))
      .where('i.user_id', '=', f.userId)
      .where('i.deleted_at', 'is', null)
      .where((eb) => {
        const ors = [];
        if (types.length) {
          ors.push(
            eb(
              'i.type_mac',
              'in',
              types.map((t) => t.mac),
            ),
          );
          ors.push(
            eb.and([
              eb('i.legacy_type', 'is not', null),
              eb(
                'i.legacy_type',
                'in',
                types.map((t) => t.code),
              ),
            ]),
          );
        }
        if (kinds.length) ors.push(eb('i.kind', 'in', kinds));
        if (tagMacs.length) {
          ors.push(
            eb.exists(
              eb
                .selectFrom('item_tags as it')
                .innerJoin('tags as t', 't.id', 'it.tag_id')
                .select(sql`1`.as('one'))
                .whereRef('it.item_id', '=', 'i.id')
                .where('t.user_id', '=', f.userId)
                .where('t.name_mac', 'in', tagMacs),
            ),
          );
        }
        return eb.or(ors);
      })
      .$if(f.from !== undefined, (q) => q.where('i.sort_at', '>=', f.from!))
      .$if(f.to !== undefined, (q) => q.where('i.sort_at', '<=', f.to!))
      .orderBy('i.sort_at', 'desc')
      .limit(f.limit)
      .execute();
  }

  /** Optimistic: the update applies only to the version that was read. */
  async update(
    userId: string,
    id: string,
    expectedVersion: number,
    set: Pick<Updateable<VaultItemsTable>, 'ciphertext' | 'occurred_at' | 'sort_at' | 'type_mac' | 'term_count' | 'external_mac'> & { version: number },
    trx: Executor = this.db,
  ): Promise<boolean> {
    const r = await trx
      .updateTable('vault_items')
      // Every write seals the type inside the payload, so a legacy row's clear code goes with it.
      .set({ ...set, legacy_type: null, updated_at: new Date() })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async setDeleted(userId: string, id: string, deleted: boolean): Promise<boolean> {
    const r = await this.db
      .updateTable('vault_items')
      .set({ deleted_at: deleted ? new Date() : null })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('deleted_at', deleted ? 'is' : 'is not', null)
      .executeTakeFirst();
    this.onWrite(Number(r.numUpdatedRows));
    return Number(r.numUpdatedRows) === 1;
  }

  // ---- tags ----

  async upsertTags(userId: string, tags: Array<{ id: string; nameMac: Uint8Array; ciphertext: Uint8Array }>, trx: Executor = this.db): Promise<string[]> {
    if (tags.length === 0) return [];
    await trx
      .insertInto('tags')
      .values(tags.map((t) => ({ id: t.id, user_id: userId, name_mac: t.nameMac, ciphertext: t.ciphertext })))
      // No conflict target: a reused sealed row (see ItemsService) may also meet its own id.
      .onConflict((oc) => oc.doNothing())
      .execute();
    const rows = await trx
      .selectFrom('tags')
      .select('id')
      .where('user_id', '=', userId)
      .where(
        'name_mac',
        'in',
        tags.map((t) => t.nameMac),
      )
      .execute();
    return rows.map((r) => r.id);
  }

  async setItemTags(itemId: string, tagIds: string[], trx: Executor = this.db): Promise<void> {
    await trx.deleteFrom('item_tags').where('item_id', '=', itemId).execute();
    if (tagIds.length > 0) {
      await trx
        .insertInto('item_tags')
        .values(tagIds.map((tag_id) => ({ item_id: itemId, tag_id })))
        .execute();
    }
  }

  /** Tags in use by live items, with counts; names stay encrypted here. */
  tagCounts(userId: string) {
    return this.db
      .selectFrom('tags as t')
      .innerJoin('item_tags as it', 'it.tag_id', 't.id')
      .innerJoin('vault_items as i', 'i.id', 'it.item_id')
      .select(['t.id', 't.version', 't.ciphertext', (eb) => eb.fn.countAll<string | number>().as('count')])
      .where('t.user_id', '=', userId)
      .where('i.deleted_at', 'is', null)
      .groupBy(['t.id', 't.version', 't.ciphertext'])
      .execute();
  }

  // ---- blind index ----

  async replaceTerms(userId: string, itemId: string, terms: Array<{ token: Uint8Array; tf: number }>, trx: Executor = this.db): Promise<void> {
    await trx.deleteFrom('search_terms').where('item_id', '=', itemId).execute();
    const dl = terms.reduce((n, t) => n + t.tf, 0);
    // Postings copy the item's sort_at and kind (see migration 0005): read from the row as the
    // caller's transaction left it.
    for (let i = 0; i < terms.length; i += 1000) {
      const batch = terms.slice(i, i + 1000);
      await sql`
        insert into search_terms (user_id, item_id, token, tf, dl, sort_at, kind)
        select i.user_id, i.id, v.token, v.tf, ${dl}::int, i.sort_at, i.kind
        from vault_items i,
          (values ${sql.join(batch.map((t) => sql`(${t.token}::bytea, ${t.tf}::int)`))}) as v(token, tf)
        where i.user_id = ${userId} and i.id = ${itemId}`.execute(trx);
    }
    this.onWrite(1);
  }

  /**
   * Corpus statistics for BM25: live items and their mean length in tokens. Counted in slices of
   * `slice` rows along the list index, yielding between them: one statement over all of a 10k-item
   * vault held PGlite's only thread for 112 ms, in which no other request moved. The slices are
   * not one snapshot; the figures are a few seconds' approximation of a slowly changing corpus.
   */
  async corpusStats(userId: string, slice = CORPUS_SLICE): Promise<{ n: number; avgdl: number }> {
    let n = 0;
    let terms = 0;
    // The key as text: a JS Date would drop sort_at's microseconds and skip or repeat rows.
    let after: { sortAt: string; id: string } | null = null;
    for (;;) {
      const r: { rows: Array<{ live: number; terms: number; seen: number; sort_at: string | null; id: string | null }> } = await sql<{
        live: number;
        terms: number;
        seen: number;
        sort_at: string | null;
        id: string | null;
      }>`
        with s as (
          select sort_at, id, term_count, deleted_at from vault_items
          where user_id = ${userId} ${after ? sql`and (sort_at, id) < (${after.sortAt}::timestamptz, ${after.id}::uuid)` : sql``}
          order by sort_at desc, id desc
          limit ${slice}
        ), last as (select sort_at, id from s order by sort_at, id limit 1)
        select count(*) filter (where s.deleted_at is null)::float8 as live,
          coalesce(sum(s.term_count) filter (where s.deleted_at is null), 0)::float8 as terms,
          count(*)::int as seen, (select sort_at::text from last) as sort_at, (select id from last) as id
        from s`.execute(this.db);
      const row = r.rows[0];
      if (!row) break;
      n += Number(row.live);
      terms += Number(row.terms);
      if (Number(row.seen) < slice || !row.sort_at || !row.id) break;
      after = { sortAt: row.sort_at, id: row.id };
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { n, avgdl: n > 0 ? Math.max(1, terms / n) : 1 };
  }

  /**
   * The best page of live items for the given blind tokens, ranked by Okapi BM25 (k1 = 1.2,
   * b = 0.75) computed by the database: it sees which opaque tokens match, never a word.
   * Postings carry their item's length, sort_at and kind, and the lookup index carries them too
   * (migration 0028), so ranking reads the index alone where VACUUM has marked the postings'
   * pages all-visible; the page's rows come back with it, so the caller decrypts nothing else.
   *
   * The shape keeps the plan good with or without planner statistics:
   * - one pass over the matching postings: df is a window count over the same rows, so no plan
   *   re-runs it per posting (as a join against a grouped CTE, PGlite without statistics
   *   estimated one row and re-counted df for each posting: 86 ms for 600 postings);
   * - each candidate's row is fetched by primary key, in a lateral lookup the planner cannot turn
   *   into a scan of all of the user's items (which it did, without statistics, for a join);
   * - float8 arithmetic throughout (numeric literals made it numeric, several times slower).
   * Filters apply after the window, so df stays over all of the user's items, as BM25 defines
   * it. Scores are rounded to 4 decimals before ordering, so equal scores tie exactly and fall
   * back to the item id whatever order the database summed them in. Trashed items keep their
   * postings (they can be restored): `TRASH_SLACK` more candidates than the page are ranked so
   * that a few of them do not shorten it.
   */
  async search(userId: string, tokens: Uint8Array[], limit: number, stats: { n: number; avgdl: number }, filter?: SearchFilter) {
    return (await this.#ranked(userId, tokens, limit, stats, filter, 'rows')) as Array<ItemRow & { score: number }>;
  }

  /** {@link search}'s page with only small ciphertexts, each row with its ciphertext's size: a page to open in bounded batches. */
  async searchPage(userId: string, tokens: Uint8Array[], limit: number, stats: { n: number; avgdl: number }, filter?: SearchFilter) {
    return (await this.#ranked(userId, tokens, limit, stats, filter, 'page')) as Array<PageRow & { score: number }>;
  }

  /**
   * The live items holding the most of the given blind tokens, newest first among those holding
   * as many: "what is my latest weight?" wants the newest notes that mention it, which BM25's
   * best page need not include when many more match. One pass over the matching postings, as
   * {@link search} makes, ordered by how many tokens each item holds, then its sort_at.
   */
  async newestMatching(userId: string, tokens: Uint8Array[], limit: number, range: { from?: Date; to?: Date } = {}) {
    if (tokens.length === 0) return [];
    const result = await sql<ItemRow & { matched: number }>`
      with m as (
        select item_id, count(*)::int as matched, max(sort_at) as sort_at
        from search_terms
        where user_id = ${userId} and token in (${sql.join(tokens.map((t) => sql`${t}::bytea`))})
          ${range.from ? sql`and sort_at >= ${range.from}` : sql``}
          ${range.to ? sql`and sort_at <= ${range.to}` : sql``}
        group by item_id
        order by matched desc, sort_at desc, item_id desc
        limit ${limit + TRASH_SLACK}
      )
      select ${sql.join(itemColumns.map((c) => sql.ref(`i.${c}`)))}, m.matched
      from m
      cross join lateral (
        select ${sql.join(itemColumns.map((c) => sql.ref(c)))} from vault_items where id = m.item_id limit 1
      ) i
      where i.user_id = ${userId} and i.deleted_at is null
      order by m.matched desc, m.sort_at desc, m.item_id desc
      limit ${limit}
    `.execute(this.db);
    return result.rows.map((r) => ({ ...r, matched: Number(r.matched) }));
  }

  async #ranked(userId: string, tokens: Uint8Array[], limit: number, stats: { n: number; avgdl: number }, filter: SearchFilter | undefined, what: Columns) {
    if (tokens.length === 0) return [];
    const { shape, values } = searchValues(userId, tokens, limit, stats, filter, what);
    const result = await this.#search(this.db, shape, values);
    return result.rows.map((r) => ({ ...r, score: Number(r.score) }));
  }

  /** Built and compiled once per shape: Kysely building it anew was ~6% of a search's CPU (10k items, PGlite). */
  readonly #search = compilePerShape(64, (shape, p) => {
    const statement = searchStatement(shape, p);
    return { compile: () => statement.compile(this.db) };
  });
}

/**
 * A search's values in a fixed order, and its shape: how many tokens and folders, which filters
 * are set (the same tests as {@link searchStatement} and {@link searchItemFilter} make).
 */
function searchValues(userId: string, tokens: Uint8Array[], limit: number, stats: { n: number; avgdl: number }, f: SearchFilter | undefined, what: Columns) {
  const folders = f?.folderIds === undefined ? '-' : f.folderIds === null ? 'none' : String(f.folderIds.length);
  const shape = [
    what,
    tokens.length,
    f?.kind ? 'k' : '',
    f?.from ? 'f' : '',
    f?.to ? 't' : '',
    f?.source !== undefined ? 's' : '',
    f?.tagMac !== undefined ? 'g' : '',
    folders,
  ].join('|');
  const values: unknown[] = [userId, stats.n, stats.avgdl, limit + TRASH_SLACK, limit, ...tokens];
  if (f?.kind) values.push(f.kind);
  if (f?.from) values.push(f.from);
  if (f?.to) values.push(f.to);
  if (f?.source !== undefined) values.push(f.source);
  if (f?.tagMac !== undefined) values.push(f.tagMac);
  if (Array.isArray(f?.folderIds)) values.push(...f.folderIds);
  return { shape, values };
}

/** What a search answers with: whole rows, or a page's rows with only small ciphertexts (see ItemsRepository.searchPage). */
type Columns = 'rows' | 'page';

/** The search statement of one shape, with `p` in {@link searchValues}' order. */
function searchStatement(shape: string, p: readonly unknown[]) {
  const [what, nTokens, kind, from, to, source, tag, folders] = shape.split('|') as [Columns, string, string, string, string, string, string, string];
  // Placeholders at compile time (see compileOnce), typed as the values they stand for.
  const [userId, n, avgdl, candidates, limit] = p as [string, number, number, number, number];
  let at = 5;
  const take = (count = 1) => p.slice(at, (at += count));
  const tokens = take(Number(nTokens));
  const filter = {
    kind: kind ? take()[0] : undefined,
    from: from ? take()[0] : undefined,
    to: to ? take()[0] : undefined,
    source: source ? take()[0] : undefined,
    tagMac: tag ? take()[0] : undefined,
    folderIds: folders === '-' ? undefined : folders === 'none' ? null : take(Number(folders)),
  } as SearchFilter;
  return sql<(ItemRow | PageRow) & { score: number }>`
      with hits as (
        select p.item_id,
          round(1e4::float8 * sum(
            ln(1::float8 + (${n}::float8 - p.df + 0.5::float8) / (p.df + 0.5::float8))
            * (p.tf * 2.2::float8) / (p.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * p.dl / ${avgdl}::float8))
          )) / 1e4::float8 as score
        from (
          select item_id, tf, dl, sort_at, kind, count(*) over (partition by token)::float8 as df
          from search_terms
          where user_id = ${userId} and token in (${sql.join(tokens.map((t) => sql`${t}::bytea`))})
        ) p
        where true
          ${filter.kind ? sql`and p.kind = ${filter.kind}` : sql``}
          ${filter.from ? sql`and p.sort_at >= ${filter.from}` : sql``}
          ${filter.to ? sql`and p.sort_at <= ${filter.to}` : sql``}
          ${searchItemFilter(userId, filter)}
        group by p.item_id
        order by score desc, p.item_id
        limit ${candidates}
      )
      select ${
        what === 'rows'
          ? sql.join(itemColumns.map((c) => sql.ref(`i.${c}`)))
          : sql`${sql.join(pageColumns.map((c) => sql.ref(`i.${c}`)))}, ${inlineCiphertext('i.ciphertext')} as ciphertext, ${ciphertextBytes('i.ciphertext')} as ciphertext_bytes`
      }, h.score
      from hits h
      cross join lateral (
        select ${sql.join(itemColumns.map((c) => sql.ref(c)))} from vault_items where id = h.item_id limit 1
      ) i
      where i.user_id = ${userId} and i.deleted_at is null
      order by h.score desc, h.item_id
      limit ${limit}
    `;
}
