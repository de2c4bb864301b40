import type { InjectOptions } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEmbedding } from '../../test-support/sandbox/fake-embed.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { passageInput, passages } from '../embed/chunk.js';
import { quantize } from '../embed/quantize.js';
import { databaseCopy, found } from '../../test-support/server/dump-scan.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

const LETTER = {
  title: 'Letter from Dr. Okafor',
  text: 'Thank you for referring Mr Jones, seen in clinic on 3 March.\fHolter monitoring confirmed paroxysmal atrial fibrillation; apixaban started.',
};

/**
 * Semantic search end to end over HTTP: the stand-in's `/api/embed` behind the `url` runtime,
 * a backfill with progress, hybrid search and chat citing the page, and what a database copy
 * shows afterwards: neither the text nor the vectors.
 */
describe.each(dbTargets())('embeddings over HTTP (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  const inject = (opts: InjectOptions) => sut.app.inject(opts);

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['llama3.1:8b', 'nomic-embed-text:latest'], tokens: ['See', ' [1].'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('backfills with progress, then search and chat find a paraphrase and cite its page; a copy of the database shows no text and no vectors', async () => {
    const user = await signUp(sut.app);
    const letter = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: LETTER })).json();
    for (let i = 0; i < 12; i++) {
      await inject({
        method: 'POST',
        url: '/api/items',
        headers: user.headers,
        payload: { title: `Shopping list ${i}`, text: `apples, bread, oat milk, item ${i}` },
      });
    }
    const started = await inject({ method: 'POST', url: '/api/embeddings/backfill', headers: user.headers });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ mode: 'hybrid', model: 'nomic-embed-text', total: 13 });
    let status = started.json();
    for (let i = 0; i < 600 && (status.running || status.embedded < status.total); i++) {
      await sleep(50);
      status = (await inject({ method: 'GET', url: '/api/embeddings', headers: user.headers })).json();
    }
    expect(status).toMatchObject({ embedded: 13, total: 13, running: false });

    const search = (await inject({ method: 'GET', url: '/api/search?q=heart%20rhythm%20problems', headers: user.headers })).json();
    expect(search.mode).toBe('hybrid');
    expect(search.results[0]).toMatchObject({ item: { id: letter.id }, page: 2 });

    const chat = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'any heart rhythm problems?' } });
    const [sources] = parseSse(chat.body);
    expect(sources!.event).toBe('sources');
    expect(sources!.data.context.retrieval).toBe('hybrid');
    const cited = sources!.data.sources.find((s: { itemId: string }) => s.itemId === letter.id);
    expect(cited).toMatchObject({ page: 2, passage: expect.stringContaining('atrial fibrillation') });
    const prompt = (fake.requests.filter((r) => r.path === '/api/chat').at(-1)!.body as { messages: Array<{ content: string }> }).messages
      .map((m) => m.content)
      .join('\n');
    expect(prompt).toContain('[page 2]');

    await sut.stop();
    const copy = await databaseCopy(sut);
    await sut.restart();
    expect(found(copy, ['paroxysmal', 'apixaban', 'Okafor', 'oat milk'])).toEqual([]);
    // The int8 vector the letter's page-2 passage was stored as appears nowhere in clear.
    const page2 = passages(LETTER.text)[1]!;
    const q = quantize(fakeEmbedding(passageInput(LETTER.title, LETTER.text, page2))).q;
    const bytes = Buffer.from(q.buffer, q.byteOffset, q.length);
    expect(copy.includes(bytes.subarray(0, 48))).toBe(false);
  });

  it('logging out drops the opened index; signing in again reopens it from the sealed rows', async () => {
    const user = await signUp(sut.app);
    await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: LETTER });
    await inject({ method: 'POST', url: '/api/embeddings/backfill', headers: user.headers });
    const embeddings = sut.app;
    expect(embeddings.embeddings).toBeDefined();
    for (let i = 0; i < 600 && (await inject({ method: 'GET', url: '/api/embeddings', headers: user.headers })).json().embedded < 1; i++) await sleep(50);
    await inject({ method: 'GET', url: '/api/search?q=heart%20rhythm', headers: user.headers });
    expect(embeddings.embeddings!.openOwners()).toContain(user.user.id);
    expect((await inject({ method: 'POST', url: '/api/auth/logout', headers: user.headers })).statusCode).toBeLessThan(400);
    expect(embeddings.embeddings!.openOwners()).not.toContain(user.user.id);
  });
});

describe('without an embedding model', () => {
  let fake: FakeOllama;
  let sut: TestServer;

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['llama3.1:8b'], tokens: ['Fine', '.'] });
    sut = await startTestServer('pglite', { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('search and chat work as before and say "keyword" (the UI\'s "keyword search only")', async () => {
    const user = await signUp(sut.app);
    const note = (
      await inject(sut, {
        method: 'POST',
        url: '/api/items',
        headers: user.headers,
        payload: { title: 'Lipid clinic', text: 'Cholesterol 4.1, atorvastatin started.' },
      })
    ).json();
    const search = (await inject(sut, { method: 'GET', url: '/api/search?q=cholesterol', headers: user.headers })).json();
    expect(search.mode).toBe('keyword');
    expect(search.results.map((r: { item: { id: string } }) => r.item.id)).toEqual([note.id]);
    const chat = await inject(sut, { method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'what did the lipid clinic say?' } });
    const [sources] = parseSse(chat.body);
    expect(sources!.data.context.retrieval).toBe('keyword');
    expect(sources!.data.sources[0].itemId).toBe(note.id);
    expect((await inject(sut, { method: 'GET', url: '/api/embeddings', headers: user.headers })).json()).toMatchObject({ mode: 'keyword', model: null });
  });
});

function inject(server: TestServer, opts: InjectOptions) {
  return server.app.inject(opts);
}
