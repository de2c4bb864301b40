/**
 * Embeddings (issue 15): backfill throughput through the Ollama stand-in's `/api/embed` over
 * HTTP (with a real model the model dominates: this measures what the vault adds), vector query
 * latency at 100k passages, and the in-memory index's size per 100k passages. Run alone:
 *   npx tsx bench/run.ts embed        (EMBED_BENCH_ITEMS / EMBED_BENCH_ROWS scale it down)
 */
import pino from 'pino';
import { embedTexts } from '../sandbox/embed.js';
import { startFakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { migrateToLatest, openDatabase } from '../server/db/index.js';
import { quantize } from '../server/embed/quantize.js';
import { VectorIndex } from '../server/embed/vector-index.js';
import { AuditRepository } from '../server/repositories/audit.repository.js';
import { ItemsRepository } from '../server/repositories/items.repository.js';
import { SessionsRepository } from '../server/repositories/sessions.repository.js';
import { UsersRepository } from '../server/repositories/users.repository.js';
import { VectorsRepository } from '../server/repositories/vectors.repository.js';
import { AuthService } from '../server/services/auth.service.js';
import { EmbeddingService } from '../server/services/embedding.service.js';
import { ItemsService } from '../server/services/items.service.js';
import type { BenchResult } from './types.js';

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const DIMS = 768; // nomic-embed-text

/** A deterministic pseudo-random unit-ish vector (xorshift), so runs compare. */
function vector(seed: number): Float32Array {
  let x = seed * 2654435761 || 1;
  const v = new Float32Array(DIMS);
  for (let i = 0; i < DIMS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = (x >>> 0) / 4294967296 - 0.5;
  }
  return v;
}

function p95(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

async function backfill(): Promise<BenchResult[]> {
  const n = Number(process.env.EMBED_BENCH_ITEMS ?? 2000);
  const fake = await startFakeOllama({});
  const { db } = await openDatabase({});
  try {
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    const session = (await auth.register('bench-embed@example.com', 'a long bench passphrase')).session.context;
    const items = new ItemsService(new ItemsRepository(db));
    const para = 'Seen in clinic today. Blood pressure stable, continue current tablets and review in three months. ';
    const texts = Array.from({ length: n }, (_, i) => `${para.repeat(4)}\n\n${para.repeat(5)}\f${para.repeat(3)} item ${i}`);
    for (let i = 0; i < n; i += 500) {
      await items.createMany(
        session,
        texts.slice(i, i + 500).map((text, j) => ({ kind: 'document', source: 'manual', title: `Letter ${i + j}`, text, occurredAt: '2026-01-01T00:00:00Z' })),
      );
    }
    const embedder = { model: 'bench-embed', present: () => true, embed: (_u: string, t: string[]) => embedTexts(fake.url, 'bench-embed', t) };
    const svc = new EmbeddingService(new VectorsRepository(db), items, embedder, pino({ level: 'silent' }), { batchItems: 32 });
    const t0 = performance.now();
    svc.touch(session);
    await svc.settled(session.userId);
    const ms = performance.now() - t0;
    const chunks = fake.requests.filter((r) => r.path === '/api/embed').reduce((k, r) => k + (r.body as { input: string[] }).input.length, 0);
    await svc.close();
    // Baseline: the same passages sent straight to the stand-in, 32 per request (no database, no sealing).
    const inputs = fake.requests.filter((r) => r.path === '/api/embed').map((r) => (r.body as { input: string[] }).input);
    const b0 = performance.now();
    for (const batch of inputs) await embedTexts(fake.url, 'bench-embed', batch);
    const rawMs = performance.now() - b0;
    const rate = chunks / (ms / 1000);
    const raw = chunks / (rawMs / 1000);
    return [
      {
        name: `backfill (${n} items, ${chunks} passages, PGlite)`,
        value: round(rate),
        unit: 'passages/s',
        baseline: { name: 'stand-in /api/embed alone', value: round(raw) },
        ratio: rate / raw,
      },
    ];
  } finally {
    await db.destroy();
    await fake.close();
  }
}

function query(): BenchResult[] {
  const rows = Number(process.env.EMBED_BENCH_ROWS ?? 100_000);
  const perItem = 10;
  const fast = new VectorIndex();
  const exact = new VectorIndex(Infinity);
  for (let i = 0; i < rows / perItem; i++) {
    const chunks = Array.from({ length: perItem }, (_, j) => ({ page: null, start: j, end: j + 1, ...quantize(vector(i * perItem + j + 1)) }));
    fast.put(`item-${i}`, { dims: DIMS, chunks });
    exact.put(`item-${i}`, { dims: DIMS, chunks });
  }
  const queries = Array.from({ length: 60 }, (_, i) => {
    // Near an existing passage, as a real question is near its answer.
    const v = vector(((i * 7919) % rows) + 1);
    const noise = vector(rows + i + 7);
    return v.map((x, k) => x + 0.5 * noise[k]!);
  });
  const time = (index: VectorIndex) => {
    for (const q of queries.slice(0, 5)) index.search(q, 10);
    return queries.map((q) => {
      const t0 = performance.now();
      index.search(q, 10);
      return performance.now() - t0;
    });
  };
  const fastP95 = p95(time(fast));
  const exactP95 = p95(time(exact));
  let agree = 0;
  for (const q of queries) {
    const a = new Set(exact.search(q, 10).map((h) => h.itemId));
    agree += fast.search(q, 10).filter((h) => a.has(h.itemId)).length / 10;
  }
  const mb = fast.bytes / 1024 / 1024 / (rows / 100_000);
  const float32Mb = (DIMS * 4 * 100_000) / 1024 / 1024;
  return [
    {
      name: `vector query p95 at ${rows} passages x ${DIMS} dims (sign-bit prefilter + int8 rescoring)`,
      value: round(fastP95, 2),
      unit: 'ms',
      baseline: { name: 'exact int8 scan', value: round(exactP95, 2) },
      ratio: fastP95 / exactP95,
      target: '< 20 ms',
      pass: fastP95 < 20,
    },
    { name: 'top-10 agreement with the exact scan', value: round(agree / queries.length, 3), unit: 'fraction' },
    {
      name: 'index memory per 100k passages',
      value: round(mb),
      unit: 'MiB',
      baseline: { name: 'float32 vectors alone', value: round(float32Mb) },
      ratio: mb / float32Mb,
    },
  ];
}

export default async function run(): Promise<BenchResult[]> {
  return [...(await backfill()), ...query()];
}
