import { tokenize } from '../../crypto/index.js';
import { searchTerm } from '../codec/index.js';
import type { ItemsRepository } from '../repositories/items.repository.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

/** Corpus statistics change slowly; recomputing them per query would scan every item. */
const STATS_TTL_MS = 30_000;

export class SearchService {
  readonly #stats = new Map<string, { n: number; avgdl: number; until: number }>();

  constructor(
    private readonly repo: ItemsRepository,
    private readonly items: ItemsService,
  ) {}

  /** Blind-index BM25: the query's tokens are blinded with the user's index key, like documents. */
  async search(
    session: SessionContext,
    query: string,
    limit: number,
    filter?: { kind?: string; from?: Date; to?: Date },
  ): Promise<Array<{ item: Item; score: number }>> {
    const tokens = [...new Set(tokenize(query))].slice(0, 64).map((t) => searchTerm.blind(session.keys, t));
    if (tokens.length === 0) return [];
    let stats = this.#stats.get(session.userId);
    if (!stats || stats.until < Date.now()) {
      stats = { ...(await this.repo.corpusStats(session.userId)), until: Date.now() + STATS_TTL_MS };
      if (this.#stats.size > 10_000) this.#stats.clear();
      this.#stats.set(session.userId, stats);
    }
    // Over-fetch a little: trashed items are dropped after ranking.
    const hits = await this.repo.bm25(session.userId, tokens, limit + 10, stats, filter);
    const items = await this.items.getMany(session, hits.map((h) => h.itemId));
    const byId = new Map(items.map((i) => [i.id, i]));
    return hits
      .flatMap((h) => {
        const item = byId.get(h.itemId);
        return item ? [{ item, score: Math.round(h.score * 1e4) / 1e4 }] : [];
      })
      .slice(0, limit);
  }
}
