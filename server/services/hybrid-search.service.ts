import { fuseRanks } from '../embed/rrf.js';
import type { VectorHit } from '../embed/vector-index.js';
import type { EmbeddingService, RetrievalMode } from './embedding.service.js';
import type { Item, ItemKind, ItemSource, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import type { PageRow, SearchFilter } from '../repositories/items.repository.js';
import { explainPage, type PageHit, type SearchRequest, type SearchService } from './search.service.js';

/** Nearest items asked of the vector index per query: the fused list's vector half. */
export const VECTOR_K = 30;
/**
 * Vector hits far below the best one are dropped before fusion: a nearest-neighbour search
 * always answers, and without a cut an unrelated item would ride into results on rank alone.
 */
const RELATIVE_CUT = 0.5;
const MIN_SIMILARITY = 0.1;

export type { SearchFilter };

export interface HybridResult {
  item: Item;
  score: number;
  /** The passage the vectors matched best, where they did. */
  match?: VectorHit;
}

/** Vector hits worth fusing: close to the best one, and not mere noise. */
export function meaningfulHits(hits: VectorHit[]): VectorHit[] {
  const top = hits[0]?.score ?? 0;
  return hits.filter((h) => h.score >= Math.max(MIN_SIMILARITY, top * RELATIVE_CUT));
}

/** Whether an item passes the search filters the BM25 query applies in SQL. */
export function passesFilter(item: Item, f: SearchFilter | undefined): boolean {
  if (!f) return true;
  if (f.kind && item.kind !== f.kind) return false;
  if (f.source !== undefined && item.source !== f.source) return false;
  if (f.tag !== undefined && !item.tags.includes(f.tag)) return false;
  if (f.folderIds === null && item.folderId) return false;
  if (Array.isArray(f.folderIds) && !f.folderIds.includes(item.folderId ?? '')) return false;
  const at = Date.parse(item.occurredAt ?? item.createdAt);
  if (f.from && at < f.from.getTime()) return false;
  if (f.to && at > f.to.getTime()) return false;
  return true;
}

/** What a row says of its item in clear, as an item for {@link passesFilter}: all but the sealed title, text and tags. */
function clearItem(row: PageRow): Item {
  return {
    id: row.id,
    kind: row.kind as ItemKind,
    source: row.source as ItemSource,
    type: null,
    title: '',
    text: '',
    tags: [],
    occurredAt: row.occurred_at ? new Date(row.occurred_at).toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    folderId: row.folder_id ?? null,
  };
}

/**
 * Search with BM25 and vectors fused by reciprocal rank; BM25 alone (`mode: 'keyword'`) when no
 * embedding model can take part, exactly as before.
 */
export class HybridSearchService {
  constructor(
    private readonly search: SearchService,
    private readonly items: ItemsService,
    private readonly embeddings: EmbeddingService | null,
  ) {}

  /**
   * `/api/search`: fused results with the item list's filters, each with a snippet of the matched
   * words (made from the decrypted item for this response only) and the page a vector matched.
   * The page's items are opened under the answer's text bound (see ItemsService.openPage).
   */
  async explain(session: SessionContext, r: SearchRequest): Promise<{ results: Array<HybridResult & { snippet: string }>; mode: RetrievalMode }> {
    const { hits, mode } = await this.#page(session, r.q, r.limit, await this.search.filterFor(session, r));
    return { results: await explainPage(this.items, session, r, hits), mode };
  }

  async query(session: SessionContext, q: string, limit: number, filter?: SearchFilter): Promise<{ results: HybridResult[]; mode: RetrievalMode }> {
    const { hits, mode } = await this.#page(session, q, limit, filter);
    const opened = await this.items.openPage(
      session,
      hits.map((h) => h.row),
    );
    return { results: hits.flatMap((h, i) => (opened[i] ? [{ item: opened[i], score: h.score, ...(h.match ? { match: h.match } : {}) }] : [])), mode };
  }

  /**
   * The page's rows, ranked, without ciphertexts: BM25's own page when no vectors take part, else
   * BM25 and the vectors fused by reciprocal rank. Only vector hits BM25 did not rank are opened
   * here, to apply the filters to them.
   */
  async #page(session: SessionContext, q: string, limit: number, filter?: SearchFilter): Promise<{ hits: PageHit[]; mode: RetrievalMode }> {
    const keyword = (rows: Array<PageRow & { score: number }>) => ({ hits: rows.map((row) => ({ row, score: row.score })), mode: 'keyword' as const });
    if (!this.embeddings || this.embeddings.mode === 'keyword') return keyword(await this.search.rankedPage(session, q, limit, filter));
    const [bm25, nearest] = await Promise.all([
      this.search.rankedPage(session, q, Math.max(limit, VECTOR_K), filter),
      this.embeddings.nearest(session, q, VECTOR_K),
    ]);
    if (!nearest) return keyword(bm25.slice(0, limit));
    const rows = new Map<string, PageRow>(bm25.map((r) => [r.id, r]));
    const vec = await this.#vectorRows(session, meaningfulHits(nearest), rows, filter);
    const matches = new Map(vec.map((v) => [v.itemId, v]));
    const fused = fuseRanks([bm25.map((r) => r.id), vec.map((v) => v.itemId)]);
    return {
      hits: fused.slice(0, limit).map(({ id, score }) => ({ row: rows.get(id)!, score, ...(matches.has(id) ? { match: matches.get(id)! } : {}) })),
      mode: 'hybrid',
    };
  }

  /**
   * Vector hits filtered like BM25's, their rows added to `rows`. Rows BM25 ranked passed the same
   * filters in SQL; the rest are filtered here, on their clear columns, or opened as previews when
   * a tag filter needs their sealed tags (a preview holds little of their text).
   */
  async #vectorRows(session: SessionContext, hits: VectorHit[], rows: Map<string, PageRow>, filter?: SearchFilter): Promise<VectorHit[]> {
    const missing = await this.items.pageRowsOf(
      session,
      hits.filter((h) => !rows.has(h.itemId)).map((h) => h.itemId),
    );
    const candidates = filter?.tag === undefined ? missing.map(clearItem) : await this.items.openPage(session, missing, { text: 'preview' });
    for (const [i, item] of candidates.entries()) if (item && passesFilter(item, filter)) rows.set(item.id, missing[i]!);
    return hits.filter((h) => rows.has(h.itemId));
  }
}

/**
 * Vector hits with their items, filtered like BM25's. Items the keyword side ranked passed the
 * same filters in SQL, so they are kept as they are (decrypted only if the caller shows them);
 * the rest are decrypted in one batch and filtered here.
 */
export async function vectorHitItems(
  items: ItemsService,
  session: SessionContext,
  hits: VectorHit[],
  known: ReadonlyArray<{ id: string; item: () => Item }>,
  filter?: SearchFilter,
): Promise<Array<{ id: string; item: () => Item; match: VectorHit }>> {
  const have = new Map(known.map((k) => [k.id, k.item]));
  const missing = hits.filter((h) => !have.has(h.itemId)).map((h) => h.itemId);
  const fetched = new Map((await items.getMany(session, missing)).map((i) => [i.id, i]));
  return hits.flatMap((match) => {
    const ranked = have.get(match.itemId);
    if (ranked) return [{ id: match.itemId, item: ranked, match }];
    const item = fetched.get(match.itemId);
    return item && passesFilter(item, filter) ? [{ id: item.id, item: () => item, match }] : [];
  });
}
