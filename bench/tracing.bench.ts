/**
 * Tracing's cost: item-read throughput with OpenTelemetry on (a span per request and per query,
 * family per request, batched to a real OTLP/HTTP receiver in this process) against the same
 * server build with tracing off, in interleaved rounds in the same run: the figure is the median
 * of the rounds' ratios, beside each side's server CPU per request (steadier on a busy machine).
 * Target: on >= 0.95 x off.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { load, startBenchServer, type BenchServer, type LoadResult } from './support/server.js';
import type { BenchResult } from './types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENCY = 20;
const DB_ENV: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const DB = process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite';
// The servers' Node.js (BENCH_SERVER_NODE, else the bench's own): on Node 20 AsyncLocalStorage
// runs a JavaScript hook for every promise and callback once a request span is entered; from
// Node 24 (22 with --experimental-async-context-frame) it is carried by V8 at almost no cost.
const NODE = process.env.BENCH_SERVER_NODE ? execFileSync(process.env.BENCH_SERVER_NODE, ['--version']).toString().trim() : process.version;

/** An OTLP/HTTP receiver that reads and counts what it is sent (and keeps nothing). */
async function startReceiver() {
  let spansBytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (spansBytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => spansBytes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function seed(server: BenchServer): Promise<{ cookie: string; ids: string[] }> {
  const reg = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, passphrase: 'benchmark passphrase' }),
  });
  const cookie = reg.headers.getSetCookie()[0]!.split(';')[0]!;
  const body = JSON.stringify({ title: 'Blood test results', text: 'Hemoglobin 13.2 g/dL, cholesterol 180 mg/dL, follow up in March.', tags: ['labs'] });
  await load(server.url, () => ({ path: '/api/items', method: 'POST', body }), { concurrency: 4, ms: 60_000, cookie, expect: 201, maxRequests: 100 });
  const ids = ((await (await fetch(`${server.url}/api/items?limit=100`, { headers: { cookie } })).json()) as { items: Array<{ id: string }> }).items.map(
    (i) => i.id,
  );
  return { cookie, ids };
}

async function reads(server: BenchServer, v: { cookie: string; ids: string[] }, ms: number): Promise<LoadResult> {
  let r = 0;
  return load(server.url, () => ({ path: `/api/items/${v.ids[r++ % v.ids.length]}` }), { concurrency: CONCURRENCY, ms, cookie: v.cookie, server });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export default async function run(): Promise<BenchResult[]> {
  const receiver = await startReceiver();
  // BENCH_TRACING_CONTROL=1: both servers run with tracing off (an A/A run): the ratio then shows
  // how far two identical server processes differ on this machine.
  const control = process.env.BENCH_TRACING_CONTROL === '1';
  const off = await startBenchServer(DB_ENV);
  const on = await startBenchServer(control ? DB_ENV : { ...DB_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  try {
    const vOff = await seed(off);
    const vOn = await seed(on);
    // Warm-up: compile the route in both.
    await reads(off, vOff, 1500);
    await reads(on, vOn, 1500);
    const rounds: Array<{ off: LoadResult; on: LoadResult }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating order (off-on, on-off, ...): drift in the machine's load falls on both sides,
      // and each round's ratio compares two runs next to each other in time.
      const r: Partial<Record<'off' | 'on', LoadResult>> = {};
      for (const side of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        r[side] = await reads(side === 'on' ? on : off, side === 'on' ? vOn : vOff, SECONDS * 1000);
      }
      rounds.push(r as { off: LoadResult; on: LoadResult });
    }
    // Let the last batch reach the receiver: tracing on must really have exported.
    await on.stop();
    if (!control && receiver.bytes() === 0) throw new Error('tracing on exported nothing');
    const ratio = median(rounds.map((r) => r.on.rps / r.off.rps));
    const rps = { off: median(rounds.map((r) => r.off.rps)), on: median(rounds.map((r) => r.on.rps)) };
    const cpu = { off: median(rounds.map((r) => r.off.cpuUs!)), on: median(rounds.map((r) => r.on.cpuUs!)) };
    const cpuRatio = median(rounds.map((r) => r.off.cpuUs! / r.on.cpuUs!));
    const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ');
    const per = rounds.map((r) => (r.on.rps / r.off.rps).toFixed(2)).join(' ');
    return [
      {
        name: `item read with tracing ${control ? 'OFF (control run)' : 'on'}, ${DB}, Node ${NODE}, median of ${ROUNDS} rounds [${per}]; loadavg ${load}`,
        value: rps.on,
        unit: 'req/s',
        baseline: { name: 'tracing off', value: rps.off },
        ratio,
        target: '>= 0.95',
        pass: ratio >= 0.95,
      },
      {
        name: `server CPU per item read, tracing ${control ? 'OFF (control)' : 'on'} (${(receiver.bytes() / 1e6).toFixed(1)} MB of spans exported)`,
        value: cpu.on,
        unit: 'us',
        baseline: { name: 'tracing off', value: cpu.off },
        // Off's CPU over on's: like the throughput ratio, 1 = free, lower = costlier.
        ratio: cpuRatio,
      },
    ];
  } finally {
    await on.stop().catch(() => {});
    await off.stop();
    await receiver.close();
  }
}
