/**
 * Version history: saving a note (PATCH with its base version) on a server that keeps history
 * (default limits, so pruning runs once a note has 100 versions) against the same server with
 * history turned off (HISTORY_MAX_VERSIONS=0), in the same run. Target: with history >= 0.8x
 * without.
 */
import { randomBytes } from 'node:crypto';
import { startBenchServer, type BenchServer } from './support/server.js';
import type { BenchResult } from './types.js';

/** Calls of `fn` completed per second by `concurrency` loops running for `ms`. */
async function throughput(fn: () => Promise<void>, concurrency: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Seconds measured per side, in one-second slices alternating ABBA: on a shared machine a load spike then hits both sides alike. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SLICE_MS = 1000;
const NOTES = 4;
/** Set to an empty PostgreSQL database to measure on pg instead of embedded PGlite. */
const DB_ENV: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};

/** A note the size people write: a couple of KB of Markdown, one line changed per save. */
function noteText(n: number): string {
  const lines = Array.from({ length: 60 }, (_, i) => `- item ${i}: ${randomBytes(12).toString('base64')}`);
  lines[n % lines.length] = `- edited in save ${n}`;
  return `# Weekly plan\n\n${lines.join('\n')}\n`;
}

async function client(server: BenchServer) {
  const reg = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase' }),
  });
  const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!;
  const headers = { cookie, 'content-type': 'application/json', origin: server.url };
  const notes: Array<{ id: string; version: number; n: number }> = [];
  for (let i = 0; i < NOTES; i++) {
    const res = await fetch(`${server.url}/api/items`, { method: 'POST', headers, body: JSON.stringify({ title: `Note ${i}`, text: noteText(0) }) });
    const item = (await res.json()) as { id: string; version: number };
    notes.push({ id: item.id, version: item.version, n: 0 });
  }
  let next = 0;
  return async () => {
    const note = notes[next++ % NOTES]!;
    note.n++;
    const res = await fetch(`${server.url}/api/items/${note.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ text: noteText(note.n), baseVersion: note.version }),
    });
    if (res.status !== 200) throw new Error(`save failed: ${res.status} ${await res.text()}`);
    note.version = ((await res.json()) as { version: number }).version;
  };
}

export default async function historyBench(): Promise<BenchResult[]> {
  const db = DB_ENV.DATABASE_URL ? 'postgres' : 'pglite';
  const without = await startBenchServer({ ...DB_ENV, HISTORY_MAX_VERSIONS: '0' });
  let withHistory: BenchServer | undefined;
  try {
    const a = await client(without);
    // On PostgreSQL both servers share the database (started one after the other, so migrations
    // do not race); each has its own user, and the server keeps no state of its own.
    withHistory = await startBenchServer({ ...DB_ENV, HISTORY_MAX_VERSIONS: '100' });
    const b = await client(withHistory);
    // Warm both (JIT, first prune) before measuring.
    await throughput(a, 1, 1000);
    await throughput(b, 1, 1000);
    const off: number[] = [];
    const on: number[] = [];
    for (let r = 0; r < SECONDS; r++) {
      // ABBA order: whichever runs second in a pair gets no systematic advantage.
      for (const which of r % 2 ? ['on', 'off'] : ['off', 'on']) {
        if (which === 'off') off.push(await throughput(a, 1, SLICE_MS));
        else on.push(await throughput(b, 1, SLICE_MS));
      }
    }
    return [result(db, off, on)];
  } finally {
    await without.stop().catch(() => {});
    await withHistory?.stop();
  }
}

function result(db: string, off: number[], on: number[]): BenchResult {
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ratio = mean(on) / mean(off);
  return {
    name: `note saves with history (${db})`,
    value: mean(on),
    unit: 'saves/s',
    baseline: { name: 'without history', value: mean(off) },
    ratio,
    target: '>= 0.8x',
    pass: ratio >= 0.8,
  };
}
