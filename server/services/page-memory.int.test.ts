import type { InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../contract/index.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { asBuffer } from '../db/index.js';
import { boundTexts, PAGE_TEXT_BUDGET } from './page-text.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { CIPHERTEXT_BATCH_BYTES, ItemsService } from './items.service.js';
import { snippets } from './snippet.js';

/** Each item the page's text budget bounds, in order with the batches fetched and the items opened. */
const events = vi.hoisted(() => [] as Array<{ fetched: number; ids: string[] } | { opened: string } | 'fitted'>);

vi.mock('./page-text.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./page-text.js')>();
  return {
    ...real,
    pageTextBudget: (...args: Parameters<typeof real.pageTextBudget>) => {
      const fit = real.pageTextBudget(...args);
      return <T extends { text: string }>(item: T) => {
        events.push('fitted');
        return fit(item);
      };
    },
  };
});

/**
 * A page of large items is answered as it always was (whole texts while the page's text budget
 * lasts, marked previews after), but built a bounded batch of ciphertext at a time, each item
 * cut as it is opened: never the whole page's ciphertexts or plaintexts at once.
 */
describe.each(dbTargets())('memory of a list or search page of large items (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const get = async (url: string) => {
    const r = await inject({ method: 'GET', url, headers: user.headers });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    return r.json();
  };
  /** Every item as `GET /api/items/:id` answers: whole. */
  const whole = new Map<string, Item>();
  /** What the page answered with before: the whole items, bounded in page order. */
  const expected = (page: Item[], mode?: 'full' | 'preview') =>
    boundTexts(
      page.map((i) => whole.get(i.id)!),
      mode,
    );

  const batches = () => events.flatMap((e) => (typeof e !== 'string' && 'fetched' in e ? [e] : []));

  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
    // Six million-character documents between small notes: 6 MB of ciphertext, past both the
    // batch bound and the page's text budget.
    const texts = Array.from({ length: 9 }, (_, n) =>
      n % 3 === 2 ? `okapi note ${n}` : `okapi document ${n}\n${`w${n}x lorem ${n} `.repeat(1_000_000).slice(0, 1_000_000 - 20)}`,
    );
    for (const [n, text] of texts.entries()) {
      const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: `item ${n}`, text } });
      expect(r.statusCode, r.body.slice(0, 300)).toBe(201);
      const one = await get(`/api/items/${r.json().id}`);
      whole.set(one.id, one);
    }
  }, 300_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  beforeAll(() => {
    const fetch = ItemsRepository.prototype.withCiphertexts;
    vi.spyOn(ItemsRepository.prototype, 'withCiphertexts').mockImplementation(async function (this: ItemsRepository, userId, ids) {
      const rows = await fetch.call(this, userId, ids);
      events.push({ fetched: rows.reduce((n, r) => n + asBuffer(r.ciphertext).length, 0), ids: rows.map((r) => r.id) });
      return rows;
    });
    const open = ItemsService.prototype.open;
    vi.spyOn(ItemsService.prototype, 'open').mockImplementation(function (this: ItemsService, keys, row) {
      events.push({ opened: row.id });
      return open.call(this, keys, row);
    });
  });
  afterEach(() => {
    events.length = 0;
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  /**
   * Each batch of the large ciphertexts is under the bound (or one row over it alone) and opened
   * before the next is fetched (the small notes came with the page), and each item is bounded as
   * soon as it is opened, before the next one is.
   */
  function expectBoundedBatches() {
    expect(batches().length).toBeGreaterThan(1);
    for (const b of batches()) expect(b.ids.length === 1 || b.fetched <= CIPHERTEXT_BATCH_BYTES, JSON.stringify(b)).toBe(true);
    expect(batches().flatMap((b) => b.ids)).toHaveLength(6);
    let waiting = new Set<string>();
    for (const e of events) {
      if (e === 'fitted') continue;
      if ('fetched' in e) {
        expect([...waiting]).toEqual([]);
        waiting = new Set(e.ids);
      } else waiting.delete(e.opened);
    }
    expect([...waiting]).toEqual([]);
    const steps = events.flatMap((e) => (e === 'fitted' ? ['fitted'] : 'opened' in e ? ['opened'] : []));
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => (i % 2 ? 'fitted' : 'opened')));
    expect(steps).toHaveLength(18);
  }

  it('answers a list page as before, a bounded batch of ciphertext at a time', async () => {
    for (const mode of [undefined, 'full', 'preview'] as const) {
      events.length = 0;
      const page = await get(`/api/items?limit=100${mode ? `&text=${mode}` : ''}`);
      expect(page.items).toHaveLength(9);
      expect(page.items).toEqual(expected(page.items, mode));
      expect(page.nextCursor).toBeNull();
      expectBoundedBatches();
    }
    const page = await get('/api/items?limit=100');
    const cut = page.items.filter((i: Item) => i.textTruncated);
    expect(cut.length).toBeGreaterThan(0);
    expect(page.items.filter((i: Item) => !i.textTruncated).reduce((n: number, i: Item) => n + i.text.length, 0)).toBeLessThanOrEqual(PAGE_TEXT_BUDGET);
  });

  it('keeps the cursor: pages of the list are the pages they were', async () => {
    const first = await get('/api/items?limit=4');
    const second = await get(`/api/items?limit=4&cursor=${first.nextCursor}`);
    const all = (await get('/api/items?limit=100&text=preview')).items.map((i: Item) => i.id);
    expect([...first.items, ...second.items].map((i: Item) => i.id)).toEqual(all.slice(0, 8));
    expect(first.items).toEqual(expected(first.items));
    expect(second.items).toEqual(expected(second.items));
  });

  it('answers a search page as before, snippets made from the whole texts', async () => {
    for (const mode of [undefined, 'preview'] as const) {
      events.length = 0;
      const { results } = await get(`/api/search?q=okapi&limit=20${mode ? `&text=${mode}` : ''}`);
      expect(results).toHaveLength(9);
      const items = results.map((r: { item: Item }) => r.item);
      expect(items).toEqual(expected(items, mode));
      const snippet = snippets('okapi');
      for (const r of results) expect(r.snippet).toBe(snippet(whole.get(r.item.id)!.title, whole.get(r.item.id)!.text));
      expectBoundedBatches();
    }
  });

  it('answers the trash as before, a bounded batch at a time', async () => {
    for (const id of whole.keys()) expect((await inject({ method: 'DELETE', url: `/api/items/${id}`, headers: user.headers })).statusCode).toBe(204);
    events.length = 0;
    const trash = await get('/api/trash?limit=100');
    expect(trash.items).toHaveLength(9);
    expect(trash.items).toEqual(expected(trash.items));
    expectBoundedBatches();
  });
});
