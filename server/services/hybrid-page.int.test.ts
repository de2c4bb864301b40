import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedTexts } from '../../sandbox/embed.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { DOCS, QUESTIONS } from '../../test-support/server/paraphrase-corpus.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { fuseRanks } from '../embed/rrf.js';
import { boundTexts } from './page-text.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository, type SearchFilter } from '../repositories/items.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { VectorsRepository } from '../repositories/vectors.repository.js';
import { AuthService } from './auth.service.js';
import { EmbeddingService } from './embedding.service.js';
import { HybridSearchService, meaningfulHits, vectorHitItems, VECTOR_K } from './hybrid-search.service.js';
import { ItemsService, type Item } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { SearchService } from './search.service.js';
import { snippets } from './snippet.js';

const MODEL = 'nomic-embed-text';

/**
 * `/api/search` with vectors opens its page in bounded batches, filtering vector hits on their
 * clear columns (or previews, for a tag): the same results, in the same order, as fusing whole
 * decrypted items did.
 */
describe.each(dbTargets())('hybrid search page (%s)', (target) => {
  let dispose: () => Promise<void>;
  let fake: FakeOllama;
  let session: SessionContext;
  let items: ItemsService;
  let search: SearchService;
  let embeddings: EmbeddingService;
  let hybrid: HybridSearchService;

  beforeAll(async () => {
    const opened = await openTestDatabase(target);
    dispose = opened.dispose;
    fake = await startFakeOllama({ models: [`${MODEL}:latest`] });
    const auth = new AuthService(new UsersRepository(opened.db), new SessionsRepository(opened.db), new AuditRepository(opened.db), {
      sessionTtlMs: 3_600_000,
    });
    session = (await auth.register(`hybrid-page-${target}@example.com`, 'a long test passphrase')).session.context;
    const repo = new ItemsRepository(opened.db);
    items = new ItemsService(repo, { ciphertextBatchBytes: 2048 });
    search = new SearchService(repo, items);
    await items.createMany(
      session,
      DOCS.map((d, n) => ({
        kind: d.kind,
        source: n % 2 ? 'manual' : 'fhir',
        title: d.title,
        text: d.text,
        occurredAt: d.occurredAt,
        tags: n % 3 ? [] : ['third'],
      })),
    );
    embeddings = new EmbeddingService(
      new VectorsRepository(opened.db),
      items,
      { model: MODEL, present: () => true, embed: (_userId, texts, signal) => embedTexts(fake.url, MODEL, texts, signal) },
      pino({ level: 'silent' }),
      { batchItems: 16 },
    );
    embeddings.touch(session);
    await embeddings.settled(session.userId);
    hybrid = new HybridSearchService(search, items, embeddings);
  }, 120_000);
  afterAll(async () => {
    await embeddings?.close();
    await fake?.close();
    await dispose?.();
  });

  /** The page as it was made before: whole items fused, then bounded, snippets from the whole texts. */
  async function before(q: string, limit: number, filter: SearchFilter | undefined) {
    const bm25 = await search.ranked(session, q, Math.max(limit, VECTOR_K), filter);
    const vec = await vectorHitItems(items, session, meaningfulHits((await embeddings.nearest(session, q, VECTOR_K))!), bm25, filter);
    const byId = new Map<string, () => Item>([...bm25.map((h) => [h.id, h.item] as const), ...vec.map((v) => [v.id, v.item] as const)]);
    const fused = fuseRanks([bm25.map((h) => h.id), vec.map((v) => v.id)]).slice(0, limit);
    const whole = fused.map(({ id }) => byId.get(id)!());
    const snippet = snippets(q);
    return boundTexts(whole, 'preview').map((item, i) => ({ item, score: fused[i]!.score, snippet: snippet(whole[i]!.title, whole[i]!.text) }));
  }

  it('answers as fusing whole items did, with and without filters', async () => {
    // A paraphrase that shares few words with the item it wants: the vectors find what BM25 misses.
    const q = QUESTIONS[0]!.q;
    const cases: Array<Record<string, string>> = [{}, { source: 'manual' }, { tag: 'third' }, { kind: DOCS[0]!.kind }];
    let vectorOnly = 0;
    for (const request of cases) {
      const { results, mode } = await hybrid.explain(session, { q, limit: 10, text: 'preview', ...request });
      expect(mode).toBe('hybrid');
      const want = await before(q, 10, await search.filterFor(session, request));
      expect(results.map(({ item, score, snippet }) => ({ item, score, snippet }))).toEqual(want);
      const bm25 = new Set((await search.ranked(session, q, 30, await search.filterFor(session, request))).map((h) => h.id));
      vectorOnly += results.filter((r) => !bm25.has(r.item.id)).length;
    }
    // The vectors brought in items BM25 did not rank: the filters ran on them here.
    expect(vectorOnly).toBeGreaterThan(0);
  });
});
