import { sleepStageLabel } from '../../integrations/series/sleep-stages.js';
import { tokenize } from '../../crypto/index.js';
import { addDays, civilOf, isoDate, startOfDayIn, todayIn } from '../chat/civil-date.js';
import type { PromptSource } from '../chat/prompt.js';
import type { ParsedQuestion, RecordKind } from '../chat/question.js';
import { summarizeSeries } from '../chat/series-summary.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import type { SearchService } from './search.service.js';
import type { SeriesService } from './series.service.js';
import { withSpan } from '../metrics/tracing.js';
import { passages } from '../embed/chunk.js';
import { fuseRanks } from '../embed/rrf.js';
import type { VectorHit } from '../embed/vector-index.js';
import type { EmbeddingService, RetrievalMode } from './embedding.service.js';
import { meaningfulHits, vectorHitItems, VECTOR_K } from './hybrid-search.service.js';
import type { SharedLease } from './turn-lease.js';

/** A source as the browser sees it in the `sources` event. */
export interface CitedSource {
  n: number;
  /** Null for a computed source such as a daily series summary. */
  itemId: string | null;
  title: string;
  kind: string;
  occurredAt: string | null;
  /** The page of a paged document (extracted PDF text) the cited passage is on. */
  page?: number;
  /** The passage the source was chosen for, as a short excerpt. */
  passage?: string;
}

export interface Retrieved {
  cited: CitedSource[];
  prompt: PromptSource[];
  /** Whether vectors took part ("keyword search only" otherwise). */
  mode: RetrievalMode;
}

/** A cited passage is quoted this long at most. */
const PASSAGE_EXCERPT = 280;

/** Record kinds of a question map to the tags the FHIR transformer and uploads give items. */
const KIND_TAGS: Partial<Record<RecordKind, string[]>> = {
  medication: ['medication'],
  allergy: ['allergy'],
  condition: ['condition'],
  immunization: ['immunization'],
  laboratory: ['laboratory'],
  'vital-signs': ['vital-signs'],
  procedure: ['procedure'],
  encounter: ['encounter'],
};
const KIND_ITEM_KINDS: Partial<Record<RecordKind, string>> = { document: 'document', note: 'note' };
/** "My notes" also means the clinical notes a provider wrote. */
const KIND_EXTRA_TAGS: Partial<Record<RecordKind, string[]>> = { note: ['clinical-note'], document: ['clinical-note'] };

/** Items decrypted for one question; the prompt budget then decides how many fit. */
const MAX_ITEMS = 14;
/** "List my conditions" wants the whole list, and such records are short. */
const MAX_ITEMS_FOR_KINDS = 40;
/** Without a date in the question, series summaries cover this many recent days. */
const DEFAULT_SERIES_DAYS = 90;
/** Long documents are cut to their most relevant passages before the prompt budget is applied. */
const MAX_SOURCE_CHARS = 6_000;
/**
 * "What is my latest weight?": the newest items matching the question's words are candidates
 * too, however many older ones BM25 ranks above them; this many, newest first.
 */
const NEWEST_MATCHES = 5;
/** A newest match's score when it holds all of the question's words: about a kind's or a code's. */
const NEWEST_WEIGHT = 0.8;

const dayMs = 86_400_000;

/**
 * Finds what a question needs: blind-index BM25 over its keywords, records of the kinds and
 * metrics it names, daily summaries of health series, ranked with recency; then decrypts only
 * those and turns them into numbered prompt sources.
 */
export class RetrievalService {
  constructor(
    private readonly items: ItemsService,
    private readonly search: SearchService,
    private readonly series: Pick<SeriesService, 'days'> | undefined,
    /** Absent or without a model: BM25 only, as before embeddings existed. */
    private readonly embeddings?: Pick<EmbeddingService, 'nearest'> | null,
  ) {}

  /** `shared`: the chat turn's sandbox lease, for embedding the question (see TurnLease). */
  async retrieve(session: SessionContext, question: string, parsed: ParsedQuestion, now: Date, shared?: SharedLease): Promise<Retrieved> {
    const hard = parsed.range && !parsed.range.soft ? parsed.range : undefined;
    // The range's days are the person's: from their first local midnight to the last day's end.
    const from = hard ? startOfDayIn(civilOf(hard.from), parsed.timeZone) : undefined;
    const to = hard ? new Date(startOfDayIn(addDays(civilOf(hard.to), 1), parsed.timeZone).getTime() - 1) : undefined;
    const scores = new Map<string, { item?: Item; score: number }>();
    const bump = (id: string, score: number, item?: Item) => {
      const cur = scores.get(id);
      if (cur) {
        cur.score += score;
        cur.item ??= item;
      } else scores.set(id, { item, score });
    };

    // The lookups are independent: on PostgreSQL they run on separate connections at once, and
    // on PGlite one's decryption overlaps the next one's query. Scores are added in a fixed order.
    // A metric's own words too: a note or an uploaded lab report holds the value under them.
    const words = [...parsed.keywords, ...parsed.metricWords].join(' ');
    // "Clinical notes" are the provider's, not the person's own notes.
    const clinical = parsed.keywords.some((k) => /^clinic(al)?$/.test(k));
    const tags = parsed.kinds.flatMap((k) => [...(KIND_TAGS[k] ?? []), ...(KIND_EXTRA_TAGS[k] ?? [])]);
    const kinds = clinical ? [] : parsed.kinds.flatMap((k) => (KIND_ITEM_KINDS[k] ? [KIND_ITEM_KINDS[k]!] : []));
    const codes = parsed.metrics.flatMap((m) => m.codes);
    const none = Promise.resolve([] as Item[]);
    const [hits, newest, byKind, byCode, inRange, summaries, nearest] = await withSpan('retrieval.lookup', {}, () =>
      Promise.all([
        words ? this.search.search(session, words, 30, { from, to }) : Promise.resolve([]),
        words && parsed.wantsLatest ? this.search.newest(session, words, NEWEST_MATCHES, { from, to }) : Promise.resolve([]),
        tags.length || kinds.length ? this.items.recent(session, { tags, kinds, from, to, limit: 40 }) : none,
        codes.length ? this.items.recent(session, { types: codes, from, to, limit: 20 }) : none,
        // "What happened in October?": everything in the range is a candidate, newest first.
        hard && !parsed.kinds.length && !parsed.metrics.length
          ? this.items.recent(session, { kinds: ['note', 'document', 'record'], from, to, limit: 30 })
          : none,
        this.#summaries(session, parsed, hard, now),
        this.embeddings ? this.embeddings.nearest(session, question, VECTOR_K, shared) : Promise.resolve(null),
      ]),
    );
    const matches = new Map<string, VectorHit>();
    if (nearest) {
      // Hybrid: BM25's and the vectors' rankings fused by reciprocal rank, in the place BM25's
      // normalized scores had, so kinds, metrics, ranges and recency weigh in as before.
      const vec = await vectorHitItems(
        this.items,
        session,
        meaningfulHits(nearest),
        hits.map((h) => ({ id: h.item.id, item: () => h.item })),
        { from, to },
      );
      for (const v of vec) matches.set(v.id, v.match);
      const items = new Map([...hits.map((h) => [h.item.id, h.item] as const), ...vec.map((v) => [v.id, v.item()] as const)]);
      const fused = fuseRanks([hits.map((h) => h.item.id), vec.map((v) => v.id)]);
      const topFused = fused[0]?.score ?? 1;
      for (const f of fused) bump(f.id, f.score / topFused, items.get(f.id));
    } else {
      const top = hits[0]?.score ?? 1;
      for (const h of hits) bump(h.item.id, h.score / top, h.item);
    }
    for (const n of newest) bump(n.item.id, NEWEST_WEIGHT * n.coverage, n.item);
    for (const item of byKind) bump(item.id, 0.9, item);
    for (const item of byCode) bump(item.id, 0.8, item);
    for (const item of inRange) bump(item.id, 0.5, item);
    if (scores.size === 0 && !parsed.metrics.length) {
      // Nothing named a kind or metric and the keywords found nothing: try every word once more.
      const hits = await this.search.search(session, question, 10, { from, to });
      const top = hits[0]?.score ?? 1;
      for (const h of hits) bump(h.item.id, (0.7 * h.score) / top, h.item);
    }

    const nowMs = now.getTime();
    for (const entry of scores.values()) {
      const at = entry.item?.occurredAt ?? entry.item?.createdAt;
      const ageDays = at ? Math.max(0, (nowMs - Date.parse(at)) / dayMs) : 3650;
      entry.score += (parsed.wantsLatest ? 0.6 : 0.15) * Math.exp(-ageDays / 365);
    }
    const cap = parsed.kinds.length ? MAX_ITEMS_FOR_KINDS : MAX_ITEMS;
    const ranked = [...scores.entries()].sort((a, b) => b[1].score - a[1].score).slice(0, cap);
    const missing = ranked.filter(([, e]) => !e.item).map(([id]) => id);
    const fetched = new Map(
      (await withSpan('retrieval.fetch', { 'cv.retrieval.items': missing.length }, () => this.items.getMany(session, missing))).map((i) => [i.id, i]),
    );

    const cited: CitedSource[] = [];
    const prompt: PromptSource[] = [];
    const add = (c: Omit<CitedSource, 'n'>, text: string) => {
      const n = cited.length + 1;
      cited.push({ n, ...c });
      prompt.push({ n, title: c.title, kind: c.kind, occurredAt: c.occurredAt, text });
    };

    // Series summaries first: for a metric question they are the most exact source.
    for (const s of summaries) add({ itemId: null, title: s.title, kind: 'series', occurredAt: s.occurredAt }, s.text);
    const keywordTokens = new Set(tokenize(question, 'query'));
    for (const [id, e] of ranked) {
      const item = e.item ?? fetched.get(id);
      if (!item) continue;
      const at = citedPassage(item, matches.get(item.id), keywordTokens);
      add({ itemId: item.id, title: item.title, kind: item.kind, occurredAt: item.occurredAt, ...at.cite }, sourceText(item, keywordTokens, at.range));
    }
    return { cited, prompt, mode: nearest ? 'hybrid' : 'keyword' };
  }

  /** Daily summaries of the series a metric question names, one per type code with data. */
  async #summaries(
    session: SessionContext,
    parsed: ParsedQuestion,
    hard: ParsedQuestion['range'] | undefined,
    now: Date,
  ): Promise<Array<{ title: string; occurredAt: string; text: string }>> {
    if (!this.series || !parsed.metrics.length) return [];
    const series = this.series;
    const today = todayIn(now, parsed.timeZone);
    const sFrom = hard?.from ?? parsed.range?.from ?? isoDate(addDays(today, -DEFAULT_SERIES_DAYS));
    const sTo = hard?.to ?? isoDate(today);
    const wanted = parsed.metrics.flatMap((metric) => metric.codes.map((code) => ({ metric, code })));
    const found = await Promise.all(wanted.map(({ code }) => series.days(session, { type: code, from: sFrom, to: sTo })));
    return wanted.flatMap(({ metric, code }, i) => {
      const s = found[i]!;
      if (!s.days.length) return [];
      const label = sleepStageLabel(code) ?? metric.label;
      const title = `${label} daily summary, ${sFrom} to ${sTo} (${code})`;
      const text = summarizeSeries({ label, unit: s.unit ?? metric.unit, days: s.days, cumulative: metric.cumulative }, 40);
      return [{ title, occurredAt: s.days[s.days.length - 1]!.date, text }];
    });
  }
}

/** The item as the model should read it; long texts reduced to their most relevant passages. */
export function sourceText(item: Item, queryTokens: Set<string>, prefer?: { start: number; end: number; page: number | null }): string {
  const head = item.tags.length ? `Tags: ${item.tags.join(', ')}\n` : '';
  const text = item.text ?? '';
  if (text.length <= MAX_SOURCE_CHARS) return head + markPages(text);
  if (prefer && prefer.end > prefer.start) {
    // The passage retrieval chose the item for comes first, marked with its page, then the rest as before.
    const lead = `${prefer.page ? `[page ${prefer.page}] ` : ''}${text.slice(prefer.start, prefer.end)}\n[...]\n`;
    const rest = sourceText({ ...item, tags: [], text: text.slice(0, prefer.start) + text.slice(prefer.end) }, queryTokens);
    return head + lead + rest.slice(0, Math.max(0, MAX_SOURCE_CHARS - lead.length));
  }
  const parts = text.split(/\n\s*\n/).flatMap((p) => (p.length > 1500 ? (p.match(/[\s\S]{1,1500}/g) ?? []) : [p]));
  const scored = parts.map((p, i) => ({ i, p, score: tokenize(p).filter((t) => queryTokens.has(t)).length }));
  const chosen = new Set<number>([0]);
  let size = parts[0]?.length ?? 0;
  for (const s of [...scored].sort((a, b) => b.score - a.score)) {
    if (s.score === 0 || size + s.p.length > MAX_SOURCE_CHARS) continue;
    chosen.add(s.i);
    size += s.p.length;
  }
  return (
    head +
    [...chosen]
      .sort((a, b) => a - b)
      .map((i) => parts[i])
      .join('\n[...]\n')
  );
}

/**
 * Where in an item a citation points: the passage the vectors matched, or for a paged document
 * found by keywords, the passage sharing most words with the question. Texts without pages and
 * short ones get no page.
 */
export function citedPassage(
  item: Item,
  match: VectorHit | undefined,
  queryTokens: Set<string>,
): { cite: { page?: number; passage?: string }; range?: { start: number; end: number; page: number | null } } {
  const text = item.text ?? '';
  let range: { start: number; end: number; page: number | null } | undefined = match && match.end > match.start ? match : undefined;
  if (!range && text.includes('\f')) {
    let best = 0;
    for (const p of passages(text)) {
      const score = tokenize(text.slice(p.start, p.end)).filter((t) => queryTokens.has(t)).length;
      if (score > best) {
        best = score;
        range = p;
      }
    }
  }
  if (!range) return { cite: {} };
  const excerpt = text.slice(range.start, range.end).replace(/\s+/g, ' ').trim();
  const passage = excerpt.length > PASSAGE_EXCERPT ? `${excerpt.slice(0, PASSAGE_EXCERPT - 1)}…` : excerpt;
  return { cite: { ...(range.page ? { page: range.page } : {}), ...(passage ? { passage } : {}) }, range };
}

/** A paged text with its page numbers written in, so the model can say which page it read. */
function markPages(text: string): string {
  if (!text.includes('\f')) return text;
  return text
    .split('\f')
    .map((page, i) => `[page ${i + 1}]\n${page}`)
    .join('\n\n');
}
