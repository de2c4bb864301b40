/**
 * Health imports through the real server over HTTP, at sizes real people have.
 *
 * Apple Health: a generated export.xml (BENCH_HEALTH_MB, default 1536 MB) in each record order
 * real files have (grouped by type as Apple writes it, types interleaved in time order, days
 * shuffled within a type; bench/generators/apple-health.ts), uploaded to POST
 * /api/import/apple-health (streamed, encrypted to disk), then the job (decrypt, parse, day
 * chunks, seal, store) until done. Each run is checked for completeness (every distinct heart
 * rate sample counted as imported) and compared with a bare saxes streaming parse of the same
 * file in the same run. The server process's peak RSS (VmHWM, which includes the import worker
 * thread) comes from /proc; the worker's own heap peak and limit from /metrics.
 *
 * Fitbit: a generated archive (BENCH_FITBIT_MB, default 2048 MB) of daily 5-second heart rate.
 *
 * BENCH_DATABASE_URL adds runs on PostgreSQL, which separates the server's own memory from
 * embedded PGlite's WASM heap (the RSS target is for PostgreSQL); BENCH_HEALTH_PGLITE_MB gives
 * the PGlite runs their own export size (default the same). BENCH_HEALTH_ORDERS picks
 * orders (comma-separated); BENCH_FITBIT_MB=0 skips Fitbit. Files are generated under a tmp dir
 * and deleted after.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import { EXPORT_ORDERS, HR, writeAppleHealthExport, type ExportOrder } from './generators/apple-health.js';
import { writeFitbitArchive } from './generators/fitbit.js';
import { startBenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const MB = 1024 * 1024;
const HEALTH_MB = Number(process.env.BENCH_HEALTH_MB ?? 1536);
// PGlite may be given a smaller export (it is slower, and an embedded PGlite that aborts inside
// its WebAssembly ends the server: server/db/pglite-guard.ts); its rows then say which size they used.
const PGLITE_MB = Number(process.env.BENCH_HEALTH_PGLITE_MB ?? HEALTH_MB);
const FITBIT_MB = Number(process.env.BENCH_FITBIT_MB ?? 2048);
const ORDERS = (process.env.BENCH_HEALTH_ORDERS === undefined ? EXPORT_ORDERS : process.env.BENCH_HEALTH_ORDERS.split(',').filter(Boolean)) as ExportOrder[];

export async function plainParse(file: string): Promise<{ seconds: number; records: number }> {
  const t = performance.now();
  const parser = new SaxesParser({ xmlns: false, position: false });
  let depth = 0;
  let records = 0;
  parser.on('opentag', () => {
    if (depth++ === 1) records++;
  });
  parser.on('closetag', () => {
    depth--;
  });
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024, encoding: 'utf8' })) parser.write(chunk as string);
  parser.close();
  return { seconds: (performance.now() - t) / 1000, records };
}

interface ServerRun {
  seconds: number;
  uploadSeconds: number;
  peakRssMb: number;
  idleRssMb: number;
  imported: Record<string, number>;
  workerHeapPeakMb: number;
  workerHeapLimitMb: number;
}

export async function serverImport(
  file: string,
  opts: { route: string; filename: string; contentType: string; fields?: Record<string, string> },
  env: Record<string, string> = {},
): Promise<ServerRun> {
  // The production build: the RSS target is the server's as users run it.
  const server = await startBenchServer(env, { build: true });
  try {
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase' }),
    });
    const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!;
    const idleRssMb = await server.rssMb();
    await server.resetPeak();
    const boundary = `----bench${randomBytes(8).toString('hex')}`;
    const fields = Object.entries(opts.fields ?? {})
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('');
    const head = Buffer.from(
      `${fields}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${opts.filename}"\r\nContent-Type: ${opts.contentType}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    async function* body() {
      yield head;
      for await (const c of createReadStream(file, { highWaterMark: 256 * 1024 })) yield c as Buffer;
      yield tail;
    }
    const t = performance.now();
    const res = await fetch(`${server.url}${opts.route}`, {
      method: 'POST',
      headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const { jobId } = (await res.json()) as { jobId?: string };
    if (!jobId) throw new Error(`import refused: ${res.status}`);
    const uploadSeconds = (performance.now() - t) / 1000;
    for (;;) {
      const job = (await (await fetch(`${server.url}/api/jobs/${jobId}`, { headers: { cookie } })).json()) as {
        status: string;
        error?: string;
        result?: { imported: Record<string, number> };
      };
      if (job.status === 'failed') throw new Error(`import failed: ${job.error}`);
      if (job.status === 'done') {
        const seconds = (performance.now() - t) / 1000;
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / MB;
        return {
          seconds,
          uploadSeconds,
          peakRssMb: await server.peakRssMb(),
          idleRssMb,
          imported: job.result?.imported ?? {},
          workerHeapPeakMb: gauge('cv_import_worker_heap_peak_bytes'),
          workerHeapLimitMb: gauge('cv_import_worker_heap_limit_bytes'),
        };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await server.stop();
  }
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;

async function appleHealth(dir: string, order: ExportOrder, pgUrl: string | undefined): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const runs: Array<[db: string, sizeMb: number, env: Record<string, string>]> = [];
  if (pgUrl) runs.push(['postgres', HEALTH_MB, { DATABASE_URL: pgUrl }]);
  runs.push(['pglite', PGLITE_MB, {}]);
  const sizes = [...new Set(runs.map((r) => r[1]))];
  for (const sizeMb of sizes) {
    const file = path.join(dir, `export-${order}-${sizeMb}.xml`);
    try {
      const gen = await writeAppleHealthExport(file, { order, bytes: sizeMb * MB });
      const mb = gen.bytes / MB;
      const plain = await plainParse(file);
      const plainMBs = mb / plain.seconds;
      const target = order === 'grouped' ? 0.5 : 0.25;
      const wantHr = gen.distinct(HR);
      const label = `apple-health ${order} ${Math.round(mb)} MB`;
      out.push({ name: `${label}: bare saxes parse (${gen.days} days)`, value: r1(plainMBs), unit: 'MB/s' });
      for (const [db, , env] of runs.filter((r) => r[1] === sizeMb)) {
        let run: ServerRun;
        try {
          run = await serverImport(file, { route: '/api/import/apple-health', filename: 'export.xml', contentType: 'text/xml' }, env);
        } catch (e) {
          out.push({ name: `${label}: import, ${db}: ${(e as Error).message}`, value: 0, unit: '', target: 'completes', pass: false });
          continue;
        }
        const rate = mb / run.seconds;
        out.push(
          {
            name: `${label}: heart-rate samples imported, ${db}`,
            value: run.imported[HR] ?? 0,
            unit: 'samples',
            baseline: { name: 'distinct in the file', value: wantHr },
            ratio: (run.imported[HR] ?? 0) / wantHr,
            target: '= 1 (complete, no duplicates)',
            pass: run.imported[HR] === wantHr,
          },
          {
            name: `${label}: full import over HTTP (upload ${r1(run.uploadSeconds)} s + job), ${db}`,
            value: r1(rate),
            unit: 'MB/s',
            baseline: { name: 'bare saxes parse', value: r1(plainMBs) },
            ratio: r2(rate / plainMBs),
            target: `>= ${target}`,
            pass: rate / plainMBs >= target,
          },
          {
            name: `${label}: server peak RSS, ${db}`,
            value: Math.round(run.peakRssMb),
            unit: 'MB',
            baseline: { name: 'RSS idle after sign-up', value: Math.round(run.idleRssMb) },
            ...(db === 'postgres' ? { target: '< 300', pass: run.peakRssMb < 300 } : {}),
          },
          {
            name: `${label}: import worker heap peak, ${db}`,
            value: r1(run.workerHeapPeakMb),
            unit: 'MB',
            baseline: { name: 'its limit', value: run.workerHeapLimitMb },
            ratio: r2(run.workerHeapPeakMb / run.workerHeapLimitMb),
            target: '< limit',
            pass: run.workerHeapPeakMb < run.workerHeapLimitMb,
          },
        );
      }
    } finally {
      await rm(file, { force: true });
    }
  }
  return out;
}

async function fitbit(dir: string, pgUrl: string | undefined): Promise<BenchResult[]> {
  const file = path.join(dir, 'fitbit.zip');
  try {
    const gen = await writeFitbitArchive(file, { bytes: FITBIT_MB * MB });
    const mb = gen.bytes / MB;
    const db = pgUrl ? 'postgres' : 'pglite';
    let run: ServerRun;
    try {
      run = await serverImport(
        file,
        { route: '/api/import/fitbit', filename: 'MyFitbitData.zip', contentType: 'application/zip', fields: { timezone: 'UTC' } },
        pgUrl ? { DATABASE_URL: pgUrl } : {},
      );
    } catch (e) {
      return [{ name: `fitbit ${Math.round(mb)} MB: import, ${db}: ${(e as Error).message}`, value: 0, unit: '', target: 'completes', pass: false }];
    }
    return [
      {
        name: `fitbit: heart-rate samples imported from a ${Math.round(mb)} MB archive (${gen.days} days), ${db}`,
        value: run.imported[HR] ?? 0,
        unit: 'samples',
        baseline: { name: 'in the archive', value: gen.heartRate },
        ratio: (run.imported[HR] ?? 0) / gen.heartRate,
        target: '= 1',
        pass: run.imported[HR] === gen.heartRate,
      },
      { name: `fitbit: full import over HTTP, ${db}`, value: r1(mb / run.seconds), unit: 'MB/s' },
      {
        name: `fitbit: server peak RSS, ${db}`,
        value: Math.round(run.peakRssMb),
        unit: 'MB',
        baseline: { name: 'RSS idle after sign-up', value: Math.round(run.idleRssMb) },
        target: '< 300',
        pass: run.peakRssMb < 300,
      },
    ];
  } finally {
    await rm(file, { force: true });
  }
}

export default async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cv-health-bench-'));
  const pgUrl = process.env.BENCH_DATABASE_URL;
  try {
    const out: BenchResult[] = [];
    for (const order of ORDERS) out.push(...(await appleHealth(dir, order, pgUrl)));
    if (FITBIT_MB > 0) out.push(...(await fitbit(dir, pgUrl)));
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
