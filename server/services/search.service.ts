import { tokenize } from '../../crypto/index.js';
import { searchTerm } from '../codec/index.js';
import { badRequest } from '../errors.js';
import type { ItemsRepository, PageRow, SearchFilter } from '../repositories/items.repository.js';
import { detached, type Bounded } from './page-text.js';
import type { FoldersService } from './folders.service.js';
import { endOfDayIfDate, parseDate, tagMac, type Item, type ItemsService } from './items.service.js';
import type { TextMode } from '../../contract/index.js';
import type { VectorHit } from '../embed/vector-index.js';
import type { SessionContext } from './keyring.js';
import { snippets } from './snippet.js';

/** `/api/search`'s question: the words, and the item list's filters in their request form. */
export interface SearchRequest {
  q: string;
  limit: number;
  kind?: string;
  source?: string;
  tag?: string;
  folderId?: string;
  recursive?: boolean;
  from?: string;
  to?: string;
  /** How much of the items' texts the answer carries (see pageTextBudget); none: whole texts. */
  text?: TextMode;
}

/**
 * Corpus statistics (live items, mean length) change slowly and counting them reads every item
 * of the vault, so they are reused for this long and then refreshed in the background: only a
 * user's first search waits for them.
 */
const STATS_TTL_MS = 30_000;

type CorpusStats = { n: number; avgdl: number };

/** A ranked item whose row is decrypted on the first call of `item` (and only once). */
export interface RankedHit {
  id: string;
  score: number;
  item: () => Item;
}

export class SearchService {
  readonly #stats = new Map<string, { value: CorpusStats; until: number }>();
  /** One count at a time per user, however many searches arrive while it runs. */
  readonly #refreshing = new Map<string, Promise<CorpusStats>>();

  constructor(
    private readonly repo: ItemsRepository,
    private readonly items: ItemsService,
    private readonly folders?: FoldersService,
  ) {}

  /**
   * A search that explains itself: each result carries a snippet with the matched words marked,
   * made from the decrypted item for this response only. Filters mean what they mean on the item list.
   */
  async explain(session: SessionContext, r: SearchRequest): Promise<Array<{ item: Bounded<Item>; score: number; snippet: string }>> {
    const rows = await this.rankedPage(session, r.q, r.limit, await this.filterFor(session, r));
    return explainPage(
      this.items,
      session,
      r,
      rows.map((row) => ({ row, score: row.score })),
    );
  }

  /** The item list's filters, in their request form, as the search query applies them. */
  async filterFor(session: SessionContext, r: Omit<SearchRequest, 'q' | 'limit'>): Promise<SearchFilter> {
    const filter: SearchFilter = {
      kind: r.kind,
      source: r.source,
      tag: r.tag,
      tagMac: r.tag ? tagMac(session.keys, r.tag) : undefined,
      from: parseDate(r.from) ?? undefined,
      to: r.to ? endOfDayIfDate(r.to) : undefined,
    };
    if (r.folderId !== undefined) {
      if (!this.folders) throw badRequest('Folders are not available.', 'not_supported');
      filter.folderIds = await this.folders.scope(session, r.folderId, r.recursive);
    }
    return filter;
  }

  /** Blind-index BM25: the query's tokens are blinded with the user's index key, like documents. */
  async search(session: SessionContext, query: string, limit: number, filter?: SearchFilter): Promise<Array<{ item: Item; score: number }>> {
    return (await this.ranked(session, query, limit, filter)).map((h) => ({ item: h.item(), score: h.score }));
  }

  /**
   * {@link search}'s hits with each row decrypted only when its item is first asked for: a fused
   * page shows a part of the candidates it ranks, and opening a row is most of a hit's cost.
   */
  async ranked(session: SessionContext, query: string, limit: number, filter?: SearchFilter): Promise<RankedHit[]> {
    const tokens = this.#tokens(session, query);
    if (tokens.length === 0) return [];
    const rows = await this.repo.search(session.userId, tokens, limit, await this.#corpusStats(session.userId), filter);
    return rows.map((row) => {
      let item: Item | undefined;
      return { id: row.id, score: row.score, item: () => (item ??= this.items.toItem(row, this.items.open(session.keys, row))) };
    });
  }

  /** {@link ranked}'s page as rows without ciphertexts, to open with ItemsService.openPage: an answer's page. */
  async rankedPage(session: SessionContext, query: string, limit: number, filter?: SearchFilter): Promise<Array<PageRow & { score: number }>> {
    const tokens = this.#tokens(session, query);
    if (tokens.length === 0) return [];
    return this.repo.searchPage(session.userId, tokens, limit, await this.#corpusStats(session.userId), filter);
  }

  /**
   * The newest items matching the query's words, best covered first: for "latest" questions,
   * whose answer is the newest mention rather than the best BM25 match. `coverage` is the share
   * of the query's tokens an item holds (1: all of them).
   */
  async newest(session: SessionContext, query: string, limit: number, range?: { from?: Date; to?: Date }): Promise<Array<{ item: Item; coverage: number }>> {
    const tokens = this.#tokens(session, query);
    if (tokens.length === 0) return [];
    const rows = await this.repo.newestMatching(session.userId, tokens, limit, range);
    return rows.map((row) => ({ item: this.items.toItem(row, this.items.open(session.keys, row)), coverage: row.matched / tokens.length }));
  }

  #tokens(session: SessionContext, query: string): Uint8Array[] {
    return [...new Set(tokenize(query, 'query'))].slice(0, 64).map((t) => searchTerm.blind(session.keys, t));
  }

  #corpusStats(userId: string): Promise<CorpusStats> | CorpusStats {
    const cached = this.#stats.get(userId);
    if (cached && cached.until > Date.now()) return cached.value;
    let refreshing = this.#refreshing.get(userId);
    if (!refreshing) {
      refreshing = this.repo
        .corpusStats(userId)
        .then((value) => {
          if (this.#stats.size >= 10_000 && !this.#stats.has(userId)) this.#stats.clear();
          this.#stats.set(userId, { value, until: Date.now() + STATS_TTL_MS });
          return value;
        })
        .finally(() => this.#refreshing.delete(userId));
      this.#refreshing.set(userId, refreshing);
    }
    if (!cached) return refreshing;
    // Expired figures serve this search; a failed refresh is retried by the next one.
    refreshing.catch(() => {});
    return cached.value;
  }
}

/** Texts longer than this have their snippets copied into strings of their own (see detached). */
const DETACH_ABOVE_CHARS = 65_536;

/** A ranked row of an answer's page, not yet opened; `match` is the passage the vectors matched, where they did. */
export interface PageHit {
  row: PageRow;
  score: number;
  match?: VectorHit;
}

/**
 * A search answer's page opened under its text bound, each result with a snippet of the matched
 * words made from the whole item as it is opened, before its text is cut. Rows deleted since
 * they were ranked are left out.
 */
export async function explainPage(
  items: ItemsService,
  session: SessionContext,
  r: Pick<SearchRequest, 'q' | 'text'>,
  hits: readonly PageHit[],
): Promise<Array<{ item: Bounded<Item>; score: number; snippet: string; match?: VectorHit }>> {
  const snippet = snippets(r.q);
  const snips: string[] = [];
  const opened = await items.openPage(
    session,
    hits.map((h) => h.row),
    {
      text: r.text,
      onOpen: (item, i) => {
        // Copied out only when what it was cut from is large: a slice of a small text pins little.
        const s = snippet(item.title, item.text);
        snips[i] = item.text.length > DETACH_ABOVE_CHARS ? detached(s) : s;
      },
    },
  );
  return hits.flatMap((h, i) => {
    const item = opened[i];
    return item ? [{ item, score: h.score, snippet: snips[i]!, ...(h.match ? { match: h.match } : {}) }] : [];
  });
}
