import { fuseRanks } from '../embed/rrf.js';
import type { VectorHit } from '../embed/vector-index.js';
import type { EmbeddingService, RetrievalMode } from './embedding.service.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import type { SearchFilter } from '../repositories/items.repository.js';
import type { SearchRequest, SearchService } from './search.service.js';
import { snippets } from './snippet.js';

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
   */
  async explain(session: SessionContext, r: SearchRequest): Promise<{ results: Array<HybridResult & { snippet: string }>; mode: RetrievalMode }> {
    const { results, mode } = await this.query(session, r.q, r.limit, await this.search.filterFor(session, r));
    const snippet = snippets(r.q);
    return { results: results.map((h) => ({ ...h, snippet: snippet(h.item.title, h.item.text) })), mode };
  }

  async query(session: SessionContext, q: string, limit: number, filter?: SearchFilter): Promise<{ results: HybridResult[]; mode: RetrievalMode }> {
    // Without vectors the answer is BM25's own page: fetch and decrypt only the rows it shows.
    if (!this.embeddings || this.embeddings.mode === 'keyword') return { results: await this.search.search(session, q, limit, filter), mode: 'keyword' };
    const [bm25, nearest] = await Promise.all([
      this.search.ranked(session, q, Math.max(limit, VECTOR_K), filter),
      this.embeddings.nearest(session, q, VECTOR_K),
    ]);
    if (!nearest) return { results: bm25.slice(0, limit).map((h) => ({ item: h.item(), score: h.score })), mode: 'keyword' };
    const vec = await vectorHitItems(this.items, session, meaningfulHits(nearest), bm25, filter);
    const byId = new Map<string, { item: () => Item; match?: VectorHit }>(bm25.map((h) => [h.id, { item: h.item }]));
    for (const v of vec) byId.set(v.id, { item: byId.get(v.id)?.item ?? v.item, match: v.match });
    const fused = fuseRanks([bm25.map((h) => h.id), vec.map((v) => v.id)]);
    return {
      results: fused.slice(0, limit).map(({ id, score }) => {
        const { item, match } = byId.get(id)!;
        return { item: item(), score, ...(match ? { match } : {}) };
      }),
      mode: 'hybrid',
    };
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
