/**
 * Health import through the real server over HTTP: a generated export.xml (>= 300 MB) uploaded
 * to POST /api/import/apple-health (streamed, encrypted to disk), then the job (decrypt, parse,
 * day chunks, encrypt, store) until done. Compared with a plain saxes streaming parse of the same
 * file in the same run; the server process's peak RSS is read from /proc.
 * BENCH_HEALTH_MB sizes the file; BENCH_DATABASE_URL adds a run on PostgreSQL, which separates
 * the server's own memory from embedded PGlite's WASM heap.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import { writeSyntheticExport } from '../integrations/apple-health/test-helpers.js';
import { startBenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const TARGET_MB = Number(process.env.BENCH_HEALTH_MB ?? 300);

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
  imported: number;
}

export async function serverImport(file: string, env: Record<string, string> = {}): Promise<ServerRun> {
  const server = await startBenchServer(env);
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
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="export.xml"\r\nContent-Type: text/xml\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    async function* body() {
      yield head;
      for await (const c of createReadStream(file, { highWaterMark: 256 * 1024 })) yield c as Buffer;
      yield tail;
    }
    const t = performance.now();
    const res = await fetch(`${server.url}/api/import/apple-health`, {
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
        return {
          seconds,
          uploadSeconds,
          peakRssMb: await server.peakRssMb(),
          idleRssMb,
          imported: Object.values(job.result?.imported ?? {}).reduce((a, b) => a + b, 0),
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await server.stop();
  }
}

export default async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cv-health-bench-'));
  try {
    const file = path.join(dir, 'export.xml');
    await writeSyntheticExport(file, TARGET_MB * 1e6);
    const mb = (await stat(file)).size / 1e6;
    // The baseline is the faster of two plain parses, one before and one after the import, so a
    // machine that slows down mid-run does not flatter the ratio.
    const first = await plainParse(file);
    const full = await serverImport(file);
    const second = await plainParse(file);
    const plain = first.seconds <= second.seconds ? first : second;
    const plainMBs = mb / plain.seconds;
    const fullMBs = mb / full.seconds;
    const plainRps = plain.records / plain.seconds;
    const fullRps = plain.records / full.seconds;
    const out: BenchResult[] = [
      { name: `plain saxes parse, ${Math.round(mb)} MB export.xml`, value: plainMBs, unit: 'MB/s' },
      { name: 'full import over HTTP (upload + job), pglite', value: fullMBs, unit: 'MB/s', baseline: { name: 'plain saxes parse', value: plainMBs }, ratio: fullMBs / plainMBs, target: '>= 0.5', pass: fullMBs / plainMBs >= 0.5 },
      { name: 'full import records, pglite', value: fullRps, unit: 'records/s', baseline: { name: 'plain saxes parse', value: plainRps }, ratio: fullRps / plainRps, target: '>= 0.5', pass: fullRps / plainRps >= 0.5 },
      { name: 'of which upload (stream + encrypt to disk)', value: full.uploadSeconds, unit: 's' },
      { name: 'server peak RSS during import, pglite', value: full.peakRssMb, unit: 'MB', baseline: { name: 'RSS idle after sign-up', value: full.idleRssMb }, target: '< 300', pass: full.peakRssMb < 300 },
    ];
    const pgUrl = process.env.BENCH_DATABASE_URL;
    if (pgUrl) {
      const pg = await serverImport(file, { DATABASE_URL: pgUrl });
      out.push(
        { name: 'full import over HTTP, postgres', value: mb / pg.seconds, unit: 'MB/s', baseline: { name: 'plain saxes parse', value: plainMBs }, ratio: mb / pg.seconds / plainMBs, target: '>= 0.5', pass: mb / pg.seconds / plainMBs >= 0.5 },
        { name: 'server peak RSS during import, postgres (no PGlite heap)', value: pg.peakRssMb, unit: 'MB', baseline: { name: 'RSS idle after sign-up', value: pg.idleRssMb }, target: '< 300', pass: pg.peakRssMb < 300 },
      );
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
