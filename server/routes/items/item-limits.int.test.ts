import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEM_BODY_MAX_BYTES, ITEM_TEXT_MAX } from '../../../contract/index.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

/**
 * A note is limited in characters (contract/items.ts), and any text within that limit is saved
 * whatever its script and however the client escapes it; past it, the answer says the limit.
 */
describe.each(dbTargets())('item body limits, tags and the trash (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const json = (method: InjectOptions['method'], url: string, payload: string) =>
    inject({ method, url, headers: { ...user.headers, 'content-type': 'application/json' }, payload });
  const create = async (body: Record<string, unknown>) => {
    const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: body });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(201);
    return r.json() as { id: string; version: number; text: string; tags: string[] };
  };

  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('saves a note of up to the character limit in any script', async () => {
    const texts = {
      accents: 'é'.repeat(ITEM_TEXT_MAX - 1),
      // Punctuated: one unbroken CJK run this long overflows the search tokenizer (crypto/blind-index.ts pushCjk).
      cjk: '日本語の文書、'.repeat(150_000 / 2),
      emoji: '😀'.repeat(ITEM_TEXT_MAX / 2),
      lines: `${'x'.repeat(19)}\n`.repeat(ITEM_TEXT_MAX / 20),
    };
    for (const [title, text] of Object.entries(texts)) {
      const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title, text } });
      expect(r.statusCode, `${title}: ${r.body.slice(0, 200)}`).toBe(201);
      expect(r.json().text.length).toBe(text.length);
    }
  });

  it('takes the worst escaping of a full note on create, update and merge', async () => {
    // Each character sent as a six-byte \u escape: the largest body a valid note can have.
    const escaped = '\\u0001'.repeat(ITEM_TEXT_MAX);
    const made = await json('POST', '/api/items', `{"title":"escaped","text":"${escaped}","tags":["a"]}`);
    expect(made.statusCode, made.body.slice(0, 200)).toBe(201);
    const id = made.json().id;
    const base = made.json().version;
    const patched = await json('PATCH', `/api/items/${id}`, `{"text":"${'\\u0002'.repeat(ITEM_TEXT_MAX)}","baseVersion":${base}}`);
    expect(patched.statusCode, patched.body.slice(0, 200)).toBe(200);
    const merged = await json('PATCH', `/api/items/${id}`, `{"tags":["b"],"baseVersion":${base},"merge":true}`);
    expect(merged.statusCode, merged.body.slice(0, 200)).toBe(200);
    expect(merged.json().text).toBe('\u0002'.repeat(ITEM_TEXT_MAX));
  });

  it('answers text just over the limit with the clear 400, not a 413', async () => {
    const text = `${'x'.repeat(19)}\n`.repeat(ITEM_TEXT_MAX / 20 + 1_000);
    const r = await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'log', text } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/^text: /);
  });

  it('refuses a body past the largest valid note with a 413 that states the limit', async () => {
    const payload = `{"title":"big","text":"${'\\u0001'.repeat(ITEM_BODY_MAX_BYTES / 6 + 1)}"}`;
    for (const [method, url] of [
      ['POST', '/api/items'],
      ['PATCH', `/api/items/${(await create({ title: 'p', text: 'p' })).id}`],
    ] as const) {
      const r = await json(method, url, payload);
      expect(r.statusCode, url).toBe(413);
      expect(r.json().error).toEqual({ code: 'too_large', message: expect.stringContaining('at most 1,000,000 characters') });
    }
  });

  it('keeps the server-wide JSON limit on other routes', async () => {
    const r = await json('POST', '/api/folders', `{"name":"${'f'.repeat(2 * 1024 * 1024)}"}`);
    expect(r.statusCode).toBe(413);
    expect(r.json().error.message).toBe('The request body is too large.');
  });

  it('refuses a tag with a lone surrogate, on create and update', async () => {
    const sent = await json('POST', '/api/items', '{"title":"t","text":"a","tags":["ok\\ud83d"]}');
    expect(sent.statusCode, sent.body).toBe(400);
    expect(sent.json().error.message).toBe('tags.0: must not contain a lone surrogate');
    const { id } = await create({ title: 't2', text: 'a' });
    const patched = await json('PATCH', `/api/items/${id}`, '{"tags":["fine","\\udc00"]}');
    expect(patched.statusCode, patched.body).toBe(400);
    expect(patched.json().error.message).toBe('tags.1: must not contain a lone surrogate');
    // A whole emoji is still a tag.
    expect((await create({ title: 't3', text: 'a', tags: ['ok😀'] })).tags).toEqual(['ok😀']);
  });

  it('says an edit of a trashed note failed because it is in the trash, and 404 once it is gone', async () => {
    const { id, version } = await create({ title: 'soon trashed', text: 'a' });
    expect((await inject({ method: 'DELETE', url: `/api/items/${id}`, headers: user.headers })).statusCode).toBe(204);
    for (const body of [{ text: 'typed', baseVersion: version }, { folderId: null }]) {
      const r = await inject({ method: 'PATCH', url: `/api/items/${id}`, headers: user.headers, payload: body });
      expect(r.statusCode, r.body).toBe(409);
      expect(r.json().error).toEqual({ code: 'item_trashed', message: 'This note is in the trash. Restore it from the trash to edit it.' });
    }
    expect((await inject({ method: 'DELETE', url: `/api/trash/${id}`, headers: user.headers })).statusCode).toBe(204);
    const gone = await inject({ method: 'PATCH', url: `/api/items/${id}`, headers: user.headers, payload: { text: 'typed' } });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('not_found');
  });
});
