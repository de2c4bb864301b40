/**
 * Search under load as a vault grows: 20 concurrent connections searching a vault of 10k and
 * 100k items, against item reads and `/health` measured on the same server in the same run.
 *
 * The vault is generated (test-support/server/corpus.ts: Zipf word frequencies over 20,000 words,
 * notes of 3 to 600 words, tags, ten years of dates, repeats) and seeded through the items
 * service in bulk, in batches of 2,000 (real encryption, blind index and database, the same path
 * as an import): 100k items through the API one by one would take most of an hour. The server
 * is measured right after seeding, as a user would meet it after an import: whatever planner
 * statistics it has are the ones it gathered on its own.
 *
 * Queries are two words a user wrote, drawn uniformly from frequency ranks 20 to 2,000 (each in
 * about 0.1 % to 10 % of items), cycling through 64 of them; every search returns a page of 20
 * (decrypted). Set BENCH_DATABASE_URL to an empty PostgreSQL database to run on pg;
 * BENCH_SEARCH_ITEMS=10000 runs one size.
 */
import { randomBytes } from 'node:crypto';
import { corpus } from '../test-support/server/corpus.js';
import { load, startBenchServer, type BenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const SIZES = (process.env.BENCH_SEARCH_ITEMS ?? '10000,100000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 20;
const SEED = 42;
const BATCH = 2_000;
const DB_ENV: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const DB = process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite';
/** p99 targets of the issue, by vault size. */
const P99_MS: Record<number, number> = { 10_000: 150, 100_000: 300 };

async function register(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase' }),
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}`);
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

async function seed(server: BenchServer, cookie: string, items: number): Promise<{ ids: string[]; perSecond: number }> {
  const ids: string[] = [];
  const started = performance.now();
  for (let from = 0; from < items; from += BATCH) {
    const res = await fetch(`${server.url}/api/bench/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ seed: SEED, from, count: Math.min(BATCH, items - from) }),
    });
    if (res.status !== 200) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { ids: string[] };
    ids.push(...body.ids.filter((_, k) => k % 97 === 0));
  }
  return { ids, perSecond: items / ((performance.now() - started) / 1000) };
}

export default async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const gen = corpus(SEED);
  let pick = 0x2545f491;
  const rank = () => {
    pick = (Math.imul(pick, 1_103_515_245) + 12_345) >>> 0;
    return 20 + (pick % 1_980);
  };
  const queries = Array.from({ length: 64 }, () => encodeURIComponent(`${gen.word(rank())} ${gen.word(rank())}`));

  for (const size of SIZES) {
    const server = await startBenchServer({ ...DB_ENV, BENCH_SEED: '1' });
    try {
      const cookie = await register(server.url);
      const { ids, perSecond } = await seed(server, cookie, size);
      const tag = `${size / 1000}k items, ${DB}`;
      let q = 0;
      let r = 0;
      const opts = { concurrency: CONCURRENCY, ms: SECONDS * 1000, cookie, server };
      // Warm each path once, so no figure includes a first-request cost.
      await load(server.url, () => ({ path: `/api/search?q=${queries[0]}` }), { ...opts, maxRequests: 20 });
      const health = await load(server.url, () => ({ path: '/health' }), opts);
      const read = await load(server.url, () => ({ path: `/api/items/${ids[r++ % ids.length]}` }), opts);
      const search = await load(server.url, () => ({ path: `/api/search?q=${queries[q++ % queries.length]}&limit=20` }), opts);
      const p99Target = P99_MS[size];
      results.push(
        { name: `seed ${tag} (items service, bulk)`, value: perSecond, unit: 'items/s' },
        {
          name: `search p99, ${CONCURRENCY} connections, ${tag}`,
          value: search.p99,
          unit: 'ms',
          baseline: { name: 'p50', value: search.p50 },
          ...(p99Target ? { target: `< ${p99Target}`, pass: search.p99 < p99Target } : {}),
        },
        {
          name: `search throughput, ${tag} (server CPU ${search.cpuUs?.toFixed(0)} us/req vs ${read.cpuUs?.toFixed(0)})`,
          value: search.rps,
          unit: 'req/s',
          baseline: { name: 'item read', value: read.rps },
          ratio: search.rps / read.rps,
          target: '>= 0.25',
          pass: search.rps / read.rps >= 0.25,
        },
        {
          name: `item read, ${tag} (server CPU ${read.cpuUs?.toFixed(0)} us/req vs ${health.cpuUs?.toFixed(0)})`,
          value: read.rps,
          unit: 'req/s',
          baseline: { name: '/health', value: health.rps },
          ratio: read.rps / health.rps,
          target: DB === 'PGlite' ? '>= 0.3' : '>= 0.5',
          pass: read.rps / health.rps >= (DB === 'PGlite' ? 0.3 : 0.5),
        },
      );
    } finally {
      await server.stop();
    }
  }
  return results;
}
