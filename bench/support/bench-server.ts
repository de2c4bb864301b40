/**
 * The real server in its own process for benchmarks, plus a plain JSON echo route as the
 * baseline: same process, same framework, no auth, no database, no crypto.
 */
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { requireSession } from '../../server/http/session.js';
import { corpus } from '../../test-support/server/corpus.js';

if (process.env.BENCH_MEM_TRACE) {
  // Where a peak RSS comes from: the process's memory split at its highest RSS, and every second.
  let peak = process.memoryUsage();
  const mb = (m: NodeJS.MemoryUsage) =>
    Object.entries(m)
      .map(([k, v]) => `${k}=${Math.round(v / 1048576)}`)
      .join(' ');
  let n = 0;
  let shown = 0;
  const t0 = Date.now();
  setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = m;
    // Every second, and at each new peak 4 MB above the last one shown.
    const rise = peak.rss >= shown + 4 * 1048576;
    if (rise) shown = peak.rss;
    if (++n % 10 === 0 || rise) process.stderr.write(`mem ${((Date.now() - t0) / 1000).toFixed(1)}s ${mb(m)} | peak ${mb(peak)}\n`);
  }, 100).unref();
}
// BENCH_HEAP_PROF=<dir>: a sampling allocation profile of the whole run, garbage included (what
// was allocated where, not only what survived), written on stop: a peak made of short-lived
// garbage shows up here and not in a heap snapshot.
const heapProf = process.env.BENCH_HEAP_PROF ? await startHeapProfile() : undefined;
async function startHeapProfile() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 64 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${process.env.BENCH_HEAP_PROF}/server-${process.pid}.heapprofile`, JSON.stringify(profile));
  };
}
const app = await buildApp({ config: loadConfig() });
app.post('/bench/echo', async (req) => req.body);
if (process.env.BENCH_SEED === '1') {
  // Large vaults are seeded through the items service in bulk (real encryption, real blind
  // index, real database, the same path as an import), not one API call per item.
  app.post('/api/bench/seed', async (req) => {
    const { seed, from, count } = req.body as { seed: number; from: number; count: number };
    const created = await app.vaultItems!.createMany(requireSession(req), corpus(seed).items(from, count));
    return { ids: created.map((c) => c.item.id) };
  });
}
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const addr = app.server.address();
process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : ''}\n`);
process.on(
  'SIGTERM',
  () =>
    void app.close().then(async () => {
      await heapProf?.();
      process.exit(0);
    }),
);
