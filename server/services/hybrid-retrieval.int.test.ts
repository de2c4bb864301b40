import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformAny } from '../../integrations/fhir/transform.js';
import { embedTexts } from '../../sandbox/embed.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { buildPrompt } from '../chat/prompt.js';
import { parseQuestion } from '../chat/question.js';
import type { Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { VectorsRepository } from '../repositories/vectors.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { DOCS, QUESTIONS } from '../../test-support/server/paraphrase-corpus.js';
import { AuthService } from './auth.service.js';
import type { Embedder } from './embedder.js';
import { EmbeddingService } from './embedding.service.js';
import { HybridSearchService } from './hybrid-search.service.js';
import { ItemsService, type NewItem } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { RetrievalService } from './retrieval.service.js';
import { SearchService } from './search.service.js';
import { SeriesService } from './series.service.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../integrations/fhir/fixtures');
const NOW = new Date('2026-11-26T10:00:00Z');
const ZONE = 'Europe/London';
const MODEL = 'nomic-embed-text';

/** Embeds through the stand-in's real `/api/embed` over HTTP (the sandbox pool is not under test here). */
const httpEmbedder = (fake: FakeOllama, model: string): Embedder => ({
  model,
  present: () => true,
  embed: (_userId, texts, signal) => embedTexts(fake.url, model, texts, signal),
});

/**
 * Hybrid retrieval over the sample FHIR records and our own letters: paraphrased questions that
 * share no word with the item they want. BM25 alone misses each; BM25 + vectors (fused by
 * reciprocal rank) puts it in the prompt, citing the page where it is on one.
 */
describe.each(dbTargets())('hybrid retrieval (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let fake: FakeOllama;
  let session: SessionContext;
  let items: ItemsService;
  let search: SearchService;
  let vectors: VectorsRepository;
  let embeddings: EmbeddingService;
  let keyword: RetrievalService;
  let hybrid: RetrievalService;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    fake = await startFakeOllama({ models: [`${MODEL}:latest`, 'other-embed:latest'] });
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register(`hybrid-${target}@example.com`, 'a long test passphrase')).session.context;
    const itemsRepo = new ItemsRepository(db);
    items = new ItemsService(itemsRepo);
    search = new SearchService(itemsRepo, items);
    const series = new SeriesService(new SeriesRepository(db));
    const inputs: NewItem[] = [];
    for (const f of readdirSync(FIXTURES).filter((f) => /\.(json|ndjson)$/.test(f))) {
      for (const rec of transformAny(readFileSync(path.join(FIXTURES, f), 'utf8')).records) {
        inputs.push({
          kind: rec.kind,
          source: 'fhir',
          type: rec.type,
          title: rec.title,
          text: rec.text,
          tags: rec.tags,
          occurredAt: rec.occurredAt,
          data: rec.data,
          external: { id: rec.externalId, version: rec.externalVersion },
        });
      }
    }
    for (const d of DOCS) inputs.push({ kind: d.kind, source: 'manual', title: d.title, text: d.text, occurredAt: d.occurredAt });
    await items.createMany(session, inputs);
    vectors = new VectorsRepository(db);
    embeddings = new EmbeddingService(vectors, items, httpEmbedder(fake, MODEL), log, { batchItems: 16 });
    keyword = new RetrievalService(items, search, series);
    hybrid = new RetrievalService(items, search, series, embeddings);
  }, 120_000);

  afterAll(async () => {
    await embeddings?.close();
    await fake?.close();
    await dispose?.();
  });

  it('backfills every item in rounds, with progress, and seals what it stores', async () => {
    const before = await embeddings.status(session);
    expect(before).toMatchObject({ mode: 'hybrid', model: MODEL, embedded: 0, running: false });
    expect(before.total).toBeGreaterThan(DOCS.length);
    embeddings.touch(session);
    expect((await embeddings.status(session)).running).toBe(true);
    await embeddings.settled(session.userId);
    const after = await embeddings.status(session);
    expect(after).toMatchObject({ embedded: before.total, total: before.total, running: false });
    const embedCalls = fake.requests.filter((r) => r.path === '/api/embed');
    expect(embedCalls.length).toBeGreaterThan(1);
    // Each request carries passages (title + text), never more than one batch.
    expect((embedCalls[0]!.body as { input: string[] }).input.length).toBeLessThanOrEqual(32);
    const row = await db.selectFrom('item_vectors').selectAll().executeTakeFirstOrThrow();
    expect(Object.keys(row).sort()).toEqual(['ciphertext', 'item_id', 'item_version', 'model_mac', 'user_id']);
    // 384 int8 values per passage sealed: no run of them readable as the fake's vector bytes.
    expect(Buffer.from(row.ciphertext).readUInt16LE(0)).not.toBe(0x7631);
  });

  it('puts the wanted item in the prompt for paraphrases BM25 alone misses; recall@5 BM25 vs hybrid', async () => {
    const hybridSearch = new HybridSearchService(search, items, embeddings);
    const rows: string[] = [];
    let bm25At5 = 0;
    let hybridAt5 = 0;
    const problems: string[] = [];
    for (const { q, want, page } of QUESTIONS) {
      const parsed = parseQuestion(q, NOW, ZONE);
      const inPrompt = async (sut: RetrievalService) => {
        const r = await sut.retrieve(session, q, parsed, NOW);
        const built = buildPrompt({ question: q, sources: r.prompt, numCtx: 8192, now: NOW, timeZone: ZONE });
        return { r, cited: built.used.map((n) => r.cited[n - 1]!) };
      };
      const k = await inPrompt(keyword);
      const h = await inPrompt(hybrid);
      const bm25Top = (await search.search(session, q, 5)).map((x) => x.item.title);
      const hybridTop = (await hybridSearch.query(session, q, 5)).results.map((x) => x.item.title);
      const bm25Hit = bm25Top.some((t) => t.startsWith(want));
      const hybridHit = hybridTop.some((t) => t.startsWith(want));
      bm25At5 += bm25Hit ? 1 : 0;
      hybridAt5 += hybridHit ? 1 : 0;
      const got = h.cited.find((c) => c.title.startsWith(want));
      rows.push(`${bm25Hit ? 'x' : '-'} ${hybridHit ? 'x' : '-'} ${got ? `prompt#${got.n}` : 'MISSING'}${got?.page ? ` p.${got.page}` : ''}  ${q} -> ${want}`);
      if (k.r.mode !== 'keyword' || h.r.mode !== 'hybrid') problems.push(`modes ${k.r.mode}/${h.r.mode}: ${q}`);
      if (k.cited.some((c) => c.title.startsWith(want))) problems.push(`keyword-only retrieval found it: ${q}`);
      if (!got)
        problems.push(
          `not in the hybrid prompt: ${q} (prompt: ${h.cited.map((c) => c.title).join(' | ')}; all: ${h.r.cited.length}; vec: ${JSON.stringify(await embeddings.nearest(session, q, 5))})`,
        );
      else if (page && (got.page !== page || !got.passage)) problems.push(`page ${got.page ?? 'none'}, not ${page}: ${q}`);
    }
    const n = QUESTIONS.length;
    console.log(
      `paraphrased questions: ${n}\n(columns: BM25 top-5, hybrid top-5, place in the hybrid prompt)\n${rows.join('\n')}\n` +
        `recall@5 BM25: ${bm25At5}/${n} = ${(bm25At5 / n).toFixed(2)}; hybrid: ${hybridAt5}/${n} = ${(hybridAt5 / n).toFixed(2)}`,
    );
    expect(problems).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(30);
    expect(bm25At5).toBe(0);
    expect(hybridAt5 / n).toBeGreaterThanOrEqual(0.9);
  });

  it("keeps the question's hard date range: a vector match outside it stays out", async () => {
    const q = 'any heart rhythm problems in November 2026?';
    const r = await hybrid.retrieve(session, q, parseQuestion(q, NOW, ZONE), NOW);
    expect(r.mode).toBe('hybrid');
    expect(r.cited.some((c) => c.title.startsWith('Letter from Dr. Okafor'))).toBe(false);
  });

  it('re-embeds everything when the embedding model changes', async () => {
    const other = new EmbeddingService(vectors, items, httpEmbedder(fake, 'other-embed'), log);
    try {
      const before = await other.status(session);
      expect(before.embedded).toBe(0);
      other.touch(session);
      await other.settled(session.userId);
      expect((await other.status(session)).embedded).toBe(before.total);
      expect(fake.requests.some((r) => r.path === '/api/embed' && (r.body as { model: string }).model === 'other-embed')).toBe(true);
      // Now the first model's vectors are the stale ones.
      expect((await embeddings.status(session)).embedded).toBe(0);
    } finally {
      await other.close();
    }
    embeddings.touch(session);
    await embeddings.settled(session.userId);
    const back = await embeddings.status(session);
    expect(back.embedded).toBe(back.total);
  });

  it('re-embeds an edited item and keeps the warm index current', async () => {
    const [note] = await items.createMany(session, [
      { kind: 'note', source: 'manual', title: 'Garden diary', text: 'Planted tomatoes.', occurredAt: '2026-11-01T10:00:00Z' },
    ]);
    embeddings.touch(session);
    await embeddings.settled(session.userId);
    const hits = await embeddings.nearest(session, 'migraine', 3);
    expect(hits?.[0]?.itemId).toBeDefined();
    await items.update(session, note!.item.id, { text: 'Sumatriptan helped the migraine today.' });
    embeddings.touch(session);
    await embeddings.settled(session.userId);
    const again = await embeddings.nearest(session, 'migraine triptan', 5);
    expect(again!.map((h) => h.itemId)).toContain(note!.item.id);
  });

  it('drops the opened index when evicted (logout) and reopens it from the sealed rows', async () => {
    await embeddings.nearest(session, 'cholesterol', 3);
    expect(embeddings.openOwners()).toContain(session.userId);
    embeddings.evict(session.userId);
    expect(embeddings.openOwners()).not.toContain(session.userId);
    const hits = await embeddings.nearest(session, 'cholesterol', 3);
    expect(hits![0]!.itemId).toBeDefined();
    expect(embeddings.openOwners()).toContain(session.userId);
  });

  it('falls back to keyword search when the model is missing', async () => {
    const missing = new EmbeddingService(vectors, items, httpEmbedder(fake, 'not-pulled'), log, { retryMs: 60_000 });
    try {
      const r = await new RetrievalService(items, search, undefined, missing).retrieve(
        session,
        'any heart rhythm problems?',
        parseQuestion('any heart rhythm problems?', NOW, ZONE),
        NOW,
      );
      expect(r.mode).toBe('keyword');
      expect(missing.mode).toBe('keyword');
      expect((await new HybridSearchService(search, items, missing).query(session, 'cholesterol', 5)).mode).toBe('keyword');
    } finally {
      await missing.close();
    }
  });
});
