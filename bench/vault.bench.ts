/**
 * Vault core: API throughput for item create against a plain JSON echo route and item reads
 * against `/health` (20 keep-alive connections, each figure with the server's CPU per request,
 * which a busy machine disturbs less than throughput), encrypted
 * upload/download of a 256 MB file against raw AES-256-GCM over the same bytes, and the server's
 * peak RSS during the upload.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pgBackendCpu } from './support/pg-backend-cpu.js';
import { load, startBenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 256);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Set to an empty PostgreSQL database to measure on pg instead of embedded PGlite. */
const DB_ENV: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const DB = process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite';
/** Connections of the API load, as in the measurements. */
const CONCURRENCY = 20;
/** BENCH_PARTS=api or BENCH_PARTS=files runs only that half (both by default). */
const PARTS = (process.env.BENCH_PARTS ?? 'api,files').split(',');
/**
 * File transfer client. `http` (default): node:http with the file piped from disk in 1 MiB reads
 * and a Content-Length body, so the client costs little next to the server it measures. `fetch`:
 * the earlier undici fetch over a web stream made from an async generator, which on a small
 * machine spends about as much CPU as the server and so understated the server's throughput.
 */
const CLIENT = process.env.BENCH_CLIENT ?? 'http';
const CHUNK = 1024 * 1024;

async function register(url: string): Promise<string> {
  const reg = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase' }),
  });
  return reg.headers.getSetCookie()[0]!.split(';')[0]!;
}

function multipartParts(): { boundary: string; head: Buffer; tail: Buffer } {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return { boundary, head, tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

function uploadResult(status: number, body: string): string {
  const item = JSON.parse(body) as { fileId?: string };
  if (!item.fileId) throw new Error(`upload failed (${status}): ${body}`);
  return item.fileId;
}

async function uploadHttp(url: string, cookie: string, file: string): Promise<string> {
  const { boundary, head, tail } = multipartParts();
  const size = (await stat(file)).size;
  return new Promise<string>((resolve, reject) => {
    const req = request(
      `${url}/api/files`,
      {
        method: 'POST',
        agent: false,
        headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('error', reject)
          .on('end', () => {
            try {
              resolve(uploadResult(res.statusCode ?? 0, text));
            } catch (err) {
              reject(err as Error);
            }
          });
      },
    );
    req.on('error', reject);
    req.write(head);
    createReadStream(file, { highWaterMark: CHUNK })
      .on('error', reject)
      .on('end', () => req.end(tail))
      .pipe(req, { end: false });
  });
}

async function downloadHttp(url: string, cookie: string, fileId: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    request(`${url}/api/files/${fileId}`, { agent: false, headers: { cookie } }, (res) => {
      let got = 0;
      res
        .on('data', (c: Buffer) => (got += c.length))
        .on('error', reject)
        .on('end', () => resolve(got));
    })
      .on('error', reject)
      .end();
  });
}

async function uploadFetch(url: string, cookie: string, file: string): Promise<string> {
  const { boundary, head, tail } = multipartParts();
  async function* multipartBody() {
    yield head;
    for await (const c of createReadStream(file, { highWaterMark: 256 * 1024 })) yield c as Buffer;
    yield tail;
  }
  const up = await fetch(`${url}/api/files`, {
    method: 'POST',
    headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(multipartBody())) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  return uploadResult(up.status, await up.text());
}

async function downloadFetch(url: string, cookie: string, fileId: string): Promise<number> {
  const down = await fetch(`${url}/api/files/${fileId}`, { headers: { cookie } });
  let got = 0;
  for await (const c of down.body as unknown as AsyncIterable<Uint8Array>) got += c.byteLength;
  return got;
}

async function makeFile(mb: number): Promise<string> {
  const p = path.join(tmpdir(), `cv-bench-${process.pid}.bin`);
  const fh = await open(p, 'w');
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < mb; i++) await fh.write(chunk);
  await fh.close();
  return p;
}

async function rawGcmMbps(file: string): Promise<number> {
  const size = (await stat(file)).size;
  const start = performance.now();
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12));
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) cipher.update(chunk as Buffer);
  cipher.final();
  return size / 1e6 / ((performance.now() - start) / 1000);
}

export default async function run(): Promise<BenchResult[]> {
  let server = await startBenchServer(DB_ENV);
  const file = await makeFile(FILE_MB);
  const results: BenchResult[] = [];
  try {
    if (PARTS.includes('api')) {
      const cookie = await register(server.url);
      const body = JSON.stringify({ title: 'Blood test results', text: 'Hemoglobin 13.2 g/dL, cholesterol 180 mg/dL, follow up in March.', tags: ['labs'] });
      // On PostgreSQL the database's CPU per request is printed too: it shares the machine.
      const dbCpuMs = process.env.BENCH_DATABASE_URL ? pgBackendCpu(process.env.BENCH_DATABASE_URL) : undefined;
      const opts = { concurrency: CONCURRENCY, ms: SECONDS * 1000, cookie, server, dbCpuMs };
      const post = (path: string) => () => ({ path, method: 'POST', body });
      // Warm-up: the first requests of each route pay for compiling it.
      await load(server.url, post('/api/items'), { ...opts, expect: 201, maxRequests: 50 });
      const echo = await load(server.url, post('/bench/echo'), opts);
      const create = await load(server.url, post('/api/items'), { ...opts, expect: 201 });
      const ids = ((await (await fetch(`${server.url}/api/items?limit=100`, { headers: { cookie } })).json()) as { items: Array<{ id: string }> }).items.map(
        (i) => i.id,
      );
      const health = await load(server.url, () => ({ path: '/health' }), opts);
      let r = 0;
      const read = await load(server.url, () => ({ path: `/api/items/${ids[r++ % ids.length]}` }), opts);
      const pg = !!process.env.BENCH_DATABASE_URL;
      const db = (x: typeof echo) => (x.dbCpuUs === undefined ? '' : `, database ${x.dbCpuUs.toFixed(0)}`);
      const cpu = (x: typeof echo, base: typeof echo) => ` (server CPU ${x.cpuUs?.toFixed(0)} us/req${db(x)} vs ${base.cpuUs?.toFixed(0)})`;
      results.push(
        {
          name: `item create, ${DB}${cpu(create, echo)}`,
          value: create.rps,
          unit: 'req/s',
          baseline: { name: 'JSON echo', value: echo.rps },
          ratio: create.rps / echo.rps,
          ...(pg ? { target: '>= 0.3', pass: create.rps / echo.rps >= 0.3 } : {}),
        },
        {
          name: `item read, ${DB}${cpu(read, health)}`,
          value: read.rps,
          unit: 'req/s',
          baseline: { name: '/health', value: health.rps },
          ratio: read.rps / health.rps,
          target: pg ? '>= 0.5' : '>= 0.3',
          pass: read.rps / health.rps >= (pg ? 0.5 : 0.3),
        },
      );
    }
    if (!PARTS.includes('files')) return results;

    await server.stop();
    // A fresh server for the upload, so its peak RSS is the upload's and not the load test's.
    server = await startBenchServer(DB_ENV);
    const cookie = await register(server.url);
    const raw = await rawGcmMbps(file);
    const size = (await stat(file)).size;
    const rssBefore = await server.rssMb();
    await server.resetPeak();
    let t = performance.now();
    const fileId = await (CLIENT === 'fetch' ? uploadFetch : uploadHttp)(server.url, cookie, file);
    const upMbps = size / 1e6 / ((performance.now() - t) / 1000);
    const peak = await server.peakRssMb();

    t = performance.now();
    const got = await (CLIENT === 'fetch' ? downloadFetch : downloadHttp)(server.url, cookie, fileId);
    if (got !== size) throw new Error(`download returned ${got} of ${size} bytes`);
    const downMbps = size / 1e6 / ((performance.now() - t) / 1000);

    results.push(
      {
        name: `encrypted upload ${FILE_MB} MB`,
        value: upMbps,
        unit: 'MB/s',
        baseline: { name: 'raw AES-256-GCM', value: raw },
        ratio: upMbps / raw,
        target: '>= 0.5',
        pass: upMbps / raw >= 0.5,
      },
      {
        name: `encrypted download ${FILE_MB} MB`,
        value: downMbps,
        unit: 'MB/s',
        baseline: { name: 'raw AES-256-GCM', value: raw },
        ratio: downMbps / raw,
        target: '>= 0.5',
        pass: downMbps / raw >= 0.5,
      },
      {
        name: 'server peak RSS during upload',
        value: peak,
        unit: 'MB',
        baseline: { name: 'RSS before upload', value: rssBefore },
        target: '< 150',
        pass: peak < 150,
      },
      { name: 'server RSS growth during upload', value: peak - rssBefore, unit: 'MB', target: '< 150', pass: peak - rssBefore < 150 },
    );
    return results;
  } finally {
    await server.stop();
    await rm(file, { force: true });
  }
}
