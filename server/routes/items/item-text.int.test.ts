import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemPage, SearchResponse, type Item } from '../../../contract/index.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { PAGE_TEXT_BUDGET, PREVIEW_CHARS } from '../../services/page-text.js';

/**
 * Lists and search answer with each item's text, which can be 2 million characters: previews on
 * request (`text=preview`), and a bounded page by default, whole items always from `GET /api/items/:id`.
 */
describe.each(dbTargets())('how much item text lists and search carry (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const get = async (url: string) => {
    const r = await inject({ method: 'GET', url, headers: user.headers });
    expect(r.statusCode, r.body).toBe(200);
    return r;
  };
  const full: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
    // The matched word is far past the preview (the snippet is still made from the whole text), and
    // an emoji straddles the preview's last character.
    const long = `${'a'.repeat(PREVIEW_CHARS - 1)}🩺 ${'filler '.repeat(2000)}zebrafinch sighting`;
    for (const [title, text] of Object.entries({ long, short: 'zebrafinch in brief' })) {
      const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title, text } });
      expect(r.statusCode, r.body).toBe(201);
      full[title] = text;
      ids[title] = r.json().id;
    }
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const byTitle = (items: Item[]) => Object.fromEntries(items.map((i) => [i.title, i]));

  it('cuts each text to a marked preview on a character boundary with text=preview, on the list, search and trash', async () => {
    const list = byTitle(ItemPage.parse((await get('/api/items?text=preview')).json()).items);
    const found = SearchResponse.parse((await get('/api/search?q=zebrafinch&text=preview')).json()).results;
    const results = byTitle(found.map((r) => r.item));
    for (const items of [list, results]) {
      expect(items.long!.text).toBe('a'.repeat(PREVIEW_CHARS - 1));
      expect(items.long!.textTruncated).toBe(true);
      expect(items.short!.text).toBe(full.short);
      expect(items.short).not.toHaveProperty('textTruncated');
    }
    expect(found.find((r) => r.item.title === 'long')!.snippet).toContain('**zebrafinch**');

    expect((await inject({ method: 'DELETE', url: `/api/items/${ids.long}`, headers: user.headers })).statusCode).toBe(204);
    const trash = byTitle(ItemPage.parse((await get('/api/trash?text=preview')).json()).items);
    expect(trash.long).toMatchObject({ text: 'a'.repeat(PREVIEW_CHARS - 1), textTruncated: true });
    expect((await get('/api/trash')).json().items[0].text).toBe(full.long);
    expect((await inject({ method: 'POST', url: `/api/items/${ids.long}/restore`, headers: user.headers })).statusCode).toBe(200);

    const one = (await get(`/api/items/${ids.long}`)).json();
    expect(one.text).toBe(full.long);
    expect(one).not.toHaveProperty('textTruncated');
  });

  it('keeps the whole text by default for existing clients', async () => {
    const list = byTitle((await get('/api/items')).json().items);
    const results = byTitle((await get('/api/search?q=zebrafinch')).json().results.map((r: { item: Item }) => r.item));
    for (const items of [list, results, byTitle((await get('/api/items?text=full')).json().items)]) {
      expect(items.long!.text).toBe(full.long);
      expect(items.long).not.toHaveProperty('textTruncated');
    }
  });

  it('refuses an unknown text mode', async () => {
    for (const url of ['/api/items?text=all', '/api/search?q=zebrafinch&text=none', '/api/trash?text=1']) {
      const r = await inject({ method: 'GET', url, headers: user.headers });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
    }
  });

  it('bounds a full-text page: whole texts up to the page budget, previews after it', async () => {
    const big = await signUp(sut.app);
    // Three 1.5-million-character documents: the third passes the budget of two 2-million ones.
    const size = 1_500_000;
    for (const n of [1, 2, 3]) {
      const text = `document ${n} okapi\n${String(n).repeat(size - 20)}`;
      const up = await inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name: `big-${n}.txt`, type: 'text/plain', data: Buffer.from(text) }, {}, big.headers),
      });
      expect(up.statusCode, up.body).toBe(201);
    }
    const pages = [
      await inject({ method: 'GET', url: '/api/items', headers: big.headers }),
      await inject({ method: 'GET', url: '/api/search?q=okapi', headers: big.headers }),
    ];
    for (const r of pages) {
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      const body = r.json();
      const items: Item[] = body.items ?? body.results.map((x: { item: Item }) => x.item);
      expect(items).toHaveLength(3);
      const whole = items.filter((i) => !i.textTruncated);
      const cut = items.filter((i) => i.textTruncated);
      expect(whole).toHaveLength(2);
      expect(cut).toHaveLength(1);
      expect(whole.reduce((n, i) => n + i.text.length, 0)).toBeLessThanOrEqual(PAGE_TEXT_BUDGET);
      expect(cut[0]!.text).toHaveLength(PREVIEW_CHARS);
      expect(r.body.length).toBeLessThan(PAGE_TEXT_BUDGET + 100_000);
      const rest = await inject({ method: 'GET', url: `/api/items/${cut[0]!.id}`, headers: big.headers });
      expect(rest.json().text.length).toBeGreaterThan(size - 100);
    }
  });
});
