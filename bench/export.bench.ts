/**
 * Export: MB/s of `POST /api/export` (files decrypted from the store, tarred, age-encrypted,
 * streamed) against raw age encryption of the same number of bytes in this process, and the
 * server's peak RSS while it exports BENCH_EXPORT_MB (default 1024) of files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { startBenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

const TOTAL_MB = Number(process.env.BENCH_EXPORT_MB ?? 1024);
const FILE_MB = Math.min(64, TOTAL_MB);
const FILES = Math.max(1, Math.round(TOTAL_MB / FILE_MB));
const MB = 1024 * 1024;
const base = randomBytes(MB);

/** One file's bytes, 1 MB at a time; each file differs (uploads of equal content dedupe). */
function* fileChunks(index: number): Generator<Buffer> {
  for (let j = 0; j < FILE_MB; j++) {
    const c = Buffer.from(base);
    c.writeUInt32BE(index, 0);
    c.writeUInt32BE(j, 4);
    yield c;
  }
}

async function rawAgeMbps(recipient: string): Promise<number> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  const src = (function* () {
    for (let i = 0; i < FILES; i++) yield* fileChunks(i);
  })();
  const start = performance.now();
  const out = await e.encrypt(
    new ReadableStream<Uint8Array>({
      pull(ctrl) {
        const n = src.next();
        if (n.done) ctrl.close();
        else ctrl.enqueue(n.value);
      },
    }),
  );
  let bytes = 0;
  for await (const c of out as unknown as AsyncIterable<Uint8Array>) bytes += c.byteLength;
  if (bytes < FILES * FILE_MB * MB) throw new Error('raw age output too short');
  return (FILES * FILE_MB * MB) / 1e6 / ((performance.now() - start) / 1000);
}

export default async function run(): Promise<BenchResult[]> {
  // Our own data directory, so a second server can open what the first one stored.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-export-'));
  // PGlite alone keeps ~300 MB resident, so the 200 MB target is judged on Postgres: set
  // BENCH_DATABASE_URL to an empty database. On PGlite the export's own growth is reported.
  const pgUrl = process.env.BENCH_DATABASE_URL;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    RATE_LIMIT_EXPORT_PER_HOUR: '1000',
    MAX_UPLOAD_MB: String(FILE_MB + 1),
    ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
  };
  let server = await startBenchServer(env);
  try {
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'export@example.com', passphrase: 'benchmark passphrase' }),
    });
    const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!;
    for (let i = 0; i < FILES; i++) {
      const boundary = `----bench${randomBytes(8).toString('hex')}`;
      const body = (async function* () {
        yield Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file-${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        );
        yield* fileChunks(i);
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      })();
      const up = await fetch(`${server.url}/api/files`, {
        method: 'POST',
        headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Readable.toWeb(Readable.from(body)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      if (up.status !== 201) throw new Error(`upload ${i} failed: ${up.status} ${await up.text()}`);
    }

    // A fresh process for the export, so its peak RSS (VmHWM) is the export's, not the uploads'.
    await server.stop();
    server = await startBenchServer(env);
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'export@example.com', passphrase: 'benchmark passphrase' }),
    });
    const session = login.headers.getSetCookie()[0]!.split(';')[0]!;

    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const raw = await rawAgeMbps(recipient);

    const rssBefore = await server.rssMb();
    await server.resetPeak();
    const start = performance.now();
    const res = await fetch(`${server.url}/api/export`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body: JSON.stringify({ recipient }),
    });
    if (res.status !== 200 || !res.body) throw new Error(`export failed: ${res.status}`);
    let bytes = 0;
    // A consumer that keeps up; the server must still not buffer ahead of the socket.
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.byteLength;
    const seconds = (performance.now() - start) / 1000;
    const peak = await server.peakRssMb();
    const payload = FILES * FILE_MB * MB;
    if (bytes < payload) throw new Error(`export returned ${bytes} bytes for ${payload} bytes of files`);
    const mbps = payload / 1e6 / seconds;
    return [
      {
        name: `export ${FILES * FILE_MB} MB of files (age, X25519)`,
        value: mbps,
        unit: 'MB/s',
        baseline: { name: 'raw age encryption', value: raw },
        ratio: mbps / raw,
        target: '>= 0.5',
        pass: mbps / raw >= 0.5,
      },
      {
        name: `server peak RSS during ${FILES * FILE_MB} MB export (${pgUrl ? 'Postgres' : 'PGlite, informational: set BENCH_DATABASE_URL'})`,
        value: peak,
        unit: 'MB',
        baseline: { name: 'RSS before export', value: rssBefore },
        target: '< 200',
        ...(pgUrl ? { pass: peak < 200 } : {}),
      },
      { name: 'RSS the export added to the server', value: peak - rssBefore, unit: 'MB', target: '< 100', pass: peak - rssBefore < 100 },
    ];
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
