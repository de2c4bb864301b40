import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { termFrequencies, tokenize } from '../../crypto/index.js';
import type { Database } from '../db/index.js';
import { PlannerStats } from '../db/planner-stats.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { corpus } from '../../test-support/server/corpus.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { AuthService } from './auth.service.js';
import { ItemsService, type Item, type NewItem } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { SearchService } from './search.service.js';

const ITEMS = 1_200;

/**
 * BM25 computed here from the plaintext, independently of the database: what the blind index
 * must rank like. df counts every indexed item (trashed ones keep their postings), N and the
 * mean length count live items, as the service's corpus statistics do.
 */
function oracle(docs: Array<{ id: string; item: NewItem; kind: string; at: number; trashed: boolean }>, query: string) {
  const terms = docs.map((d) => termFrequencies(`${d.item.title}\n${d.item.text}\n${(d.item.tags ?? []).join('\n')}`));
  const lengths = terms.map((tf) => [...tf.values()].reduce((a, b) => a + b, 0));
  const live = docs.flatMap((d, i) => (d.trashed ? [] : [i]));
  const n = live.length;
  const avgdl = Math.max(1, live.reduce((a, i) => a + lengths[i]!, 0) / n);
  const q = [...new Set(tokenize(query))];
  const df = new Map(q.map((t) => [t, terms.filter((tf) => tf.has(t)).length]));
  return (filter: (d: (typeof docs)[number]) => boolean = () => true) =>
    docs
      .flatMap((d, i) => {
        if (d.trashed || !filter(d)) return [];
        let score = 0;
        let hit = false;
        for (const t of q) {
          const tf = terms[i]!.get(t);
          if (!tf) continue;
          hit = true;
          const idf = Math.log(1 + (n - df.get(t)! + 0.5) / (df.get(t)! + 0.5));
          score += (idf * (tf * 2.2)) / (tf + 1.2 * (0.25 + 0.75 * (lengths[i]! / avgdl)));
        }
        return hit ? [{ id: d.id, score }] : [];
      })
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

/** The page matches the oracle: same scores, ranked by score then id, nothing better left out. */
function expectRanked(page: Array<{ item: Item; score: number }>, expected: Array<{ id: string; score: number }>, limit: number) {
  expect(page.length).toBe(Math.min(limit, expected.length));
  const want = new Map(expected.map((e) => [e.id, e.score]));
  for (const r of page) expect(r.score).toBeCloseTo(want.get(r.item.id)!, 3);
  for (let i = 1; i < page.length; i++) {
    const [a, b] = [page[i - 1]!, page[i]!];
    expect(a.score > b.score || (a.score === b.score && a.item.id < b.item.id)).toBe(true);
  }
  const shown = new Set(page.map((r) => r.item.id));
  const last = page.at(-1)?.score ?? Infinity;
  for (const e of expected) if (!shown.has(e.id)) expect(e.score).toBeLessThanOrEqual(last + 1e-3);
}

describe.each(dbTargets())('search over the blind index (%s)', (target) => {
  const gen = corpus(7);
  let db: Database;
  let dispose: () => Promise<void>;
  let session: SessionContext;
  let items: ItemsService;
  let repo: ItemsRepository;
  const docs: Array<{ id: string; item: NewItem; kind: string; at: number; trashed: boolean }> = [];
  // Queries a user would type: one common word, two mid-frequency words, a rare word with a
  // common one, and a word that is nowhere.
  const queries = [gen.word(3), `${gen.word(60)} ${gen.word(140)}`, `${gen.word(2)} ${gen.word(900)}`, `${gen.word(400)}, ${gen.word(41)}!`, 'zzqxv'];

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    // PostgreSQL's autovacuum must not analyze behind the planner statistics test's back.
    await sql`alter table vault_items set (autovacuum_enabled = false)`.execute(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register(`search-${target}@example.com`, 'a long test passphrase')).session.context;
    repo = new ItemsRepository(db);
    items = new ItemsService(repo);
    for (let from = 0; from < ITEMS; from += 400) {
      const batch = gen.items(from, 400);
      const created = await items.createMany(session, batch);
      created.forEach((c, k) => docs.push({ id: c.item.id, item: batch[k]!, kind: c.item.kind, at: Date.parse(c.item.occurredAt!), trashed: false }));
    }
    // A few of the best hits go to the trash: they keep their postings but never show.
    const best = oracle(docs, queries[1]!)().slice(0, 4);
    for (const b of best) {
      await items.trash(session, b.id);
      docs.find((d) => d.id === b.id)!.trashed = true;
    }
  });
  afterAll(async () => dispose?.());

  it('ranks like BM25 over the plaintext, without planner statistics and with them', async () => {
    const before = [];
    for (const q of queries) {
      const page = await new SearchService(repo, items).search(session, q, 20);
      expectRanked(page, oracle(docs, q)(), 20);
      before.push(page);
    }
    await sql`analyze`.execute(db);
    for (const [i, q] of queries.entries()) {
      expect(await new SearchService(repo, items).search(session, q, 20)).toEqual(before[i]);
    }
    // Decrypted items are the ones that were stored.
    const first = before[1]![0]!.item;
    const doc = docs.find((d) => d.id === first.id)!;
    expect({ title: first.title, text: first.text, tags: first.tags }).toEqual({ title: doc.item.title, text: doc.item.text, tags: doc.item.tags });
  });

  it('keeps the page full when trashed items rank among the best', async () => {
    const page = await new SearchService(repo, items).search(session, queries[1]!, 5);
    expect(page).toHaveLength(5);
    expect(page.some((r) => docs.find((d) => d.id === r.item.id)!.trashed)).toBe(false);
  });

  it('gives the same order at every page size: a smaller page is a prefix of a larger one', async () => {
    const sut = new SearchService(repo, items);
    const large = await sut.search(session, queries[0]!, 100);
    expect(large).toHaveLength(100);
    for (const n of [1, 7, 20, 50]) expect((await sut.search(session, queries[0]!, n)).map((r) => r.item.id)).toEqual(large.slice(0, n).map((r) => r.item.id));
  });

  it('filters by kind and date while scoring with the whole vault’s document frequencies', async () => {
    const sut = new SearchService(repo, items);
    const from = new Date('2019-01-01T00:00:00Z');
    const to = new Date('2021-06-30T00:00:00Z');
    const page = await sut.search(session, queries[0]!, 30, { kind: 'note', from, to });
    expectRanked(
      page,
      oracle(docs, queries[0]!)((d) => d.kind === 'note' && d.at >= from.getTime() && d.at <= to.getTime()),
      30,
    );
    expect(page.every((r) => r.item.kind === 'note')).toBe(true);
  });

  it('counts corpus statistics in bounded slices, to the same figures as one pass', async () => {
    const live = docs.filter((d) => !d.trashed);
    const lengths = live.map((d) =>
      [...termFrequencies(`${d.item.title}\n${d.item.text}\n${(d.item.tags ?? []).join('\n')}`).values()].reduce((a, b) => a + b, 0),
    );
    const whole = await repo.corpusStats(session.userId, 1_000_000);
    expect(whole.n).toBe(live.length);
    expect(whole.avgdl).toBeCloseTo(lengths.reduce((a, b) => a + b, 0) / live.length, 9);
    // Slice sizes that do and do not divide the vault, trashed rows falling inside slices.
    for (const slice of [3, 7, 400, ITEMS]) expect(await repo.corpusStats(session.userId, slice)).toEqual(whole);
    expect(await repo.corpusStats('00000000-0000-4000-8000-000000000000', 7)).toEqual({ n: 0, avgdl: 1 });
  });

  it('reuses corpus statistics for 30 s, then refreshes them in the background', async () => {
    const sut = new SearchService(repo, items);
    const scores = async () => (await sut.search(session, queries[0]!, 10)).map((r) => r.score);
    const first = await scores();
    // More items, without the query's word, change N and the mean length (so every score) and
    // not its document frequency.
    const batch = Array.from({ length: 60 }, (_, i): NewItem => ({ kind: 'note', source: 'manual', title: `xyzzy ${i}`, text: 'qwxz xyzzy', tags: [] }));
    const created = await items.createMany(session, batch);
    created.forEach((c, k) => docs.push({ id: c.item.id, item: batch[k]!, kind: c.item.kind, at: Date.parse(c.item.createdAt), trashed: false }));
    expect(await scores()).toEqual(first);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 31_000);
      // The expired figures still answer this search, while the count runs behind it.
      expect(await scores()).toEqual(first);
      await vi.waitFor(async () => expect(await scores()).not.toEqual(first), { timeout: 30_000, interval: 50 });
    } finally {
      vi.useRealTimers();
    }
    expectRanked(await sut.search(session, queries[0]!, 20), oracle(docs, queries[0]!)(), 20);
  });

  it('keeps planner statistics current as items are written, in the background', async () => {
    const stats = new PlannerStats(db, {
      onError: (err) => {
        throw err;
      },
      minIntervalMs: 0,
    });
    const sut = new ItemsService(new ItemsRepository(db, (n) => stats.noteWrites(n)));
    const reltuples = async () =>
      Number((await sql<{ n: number }>`select reltuples::float8 as n from pg_class where relname = 'vault_items'`.execute(db)).rows[0]!.n);
    await stats.analyze();
    const counted = await reltuples();
    // 50 + 10 % of what the last ANALYZE counted: fewer writes leave the statistics alone.
    const threshold = 50 + Math.floor(0.1 * counted);
    const runs = stats.runs;
    await sut.createMany(session, gen.items(ITEMS, threshold));
    await stats.settled();
    expect(stats.runs).toBe(runs);
    expect(await reltuples()).toBe(counted);
    await sut.createMany(session, gen.items(ITEMS + threshold, 2));
    await stats.settled();
    expect(stats.runs).toBe(runs + 1);
    // The write is reported from inside its transaction, so on PostgreSQL the background ANALYZE
    // (another connection) may sample just before the commit: the new rows are seen when it does
    // not, and the estimate has grown either way. (PGlite serialises the two: always exact there.)
    const after = await reltuples();
    expect(after).toBeGreaterThan(counted);
    expect(after).toBeLessThanOrEqual(counted + threshold + 2);
    await stats.close();
  });

  it('lets a query waiting on PGlite run between the tables one ANALYZE goes through', async () => {
    const stats = new PlannerStats(db, {
      onError: (err) => {
        throw err;
      },
    });
    const order: string[] = [];
    const analyzed = stats.analyze().then(() => order.push('analyze'));
    const searched = new SearchService(repo, items).search(session, queries[1]!, 5).then(() => order.push('search'));
    await Promise.all([analyzed, searched]);
    // On PostgreSQL they run on two connections, in either order.
    if (target === 'pglite') expect(order).toEqual(['search', 'analyze']);
    else expect(order.sort()).toEqual(['analyze', 'search']);
    await stats.close();
  });

  it('decrypts a ranked hit only when its item is asked for, to the item search returns', async () => {
    const open = vi.spyOn(items, 'open');
    try {
      const sut = new SearchService(repo, items);
      const ranked = await sut.ranked(session, queries[1]!, 10);
      expect(open).not.toHaveBeenCalled();
      const page = await sut.search(session, queries[1]!, 10);
      open.mockClear();
      expect(ranked.map((h) => h.id)).toEqual(page.map((r) => r.item.id));
      expect(ranked.map((h) => h.score)).toEqual(page.map((r) => r.score));
      expect(ranked[2]!.item()).toEqual(page[2]!.item);
      expect(ranked[2]!.item()).toBe(ranked[2]!.item());
      expect(open).toHaveBeenCalledTimes(1);
    } finally {
      open.mockRestore();
    }
  });
});
