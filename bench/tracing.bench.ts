/**
 * Tracing's cost: item-read throughput with OpenTelemetry on (a span per request and per query,
 * batched to a real OTLP/HTTP receiver in this process) against the same server build with
 * tracing off, measured in interleaved rounds in the same run. Target: on >= 0.95 x off.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { load, startBenchServer, type BenchServer, type LoadResult } from './support/server.js';
import type { BenchResult } from './types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 20;
const DB_ENV: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const DB = process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite';

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

export default async function run(): Promise<BenchResult[]> {
  const receiver = await startReceiver();
  const off = await startBenchServer(DB_ENV);
  const on = await startBenchServer({ ...DB_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  try {
    const vOff = await seed(off);
    const vOn = await seed(on);
    // Warm-up: compile the route in both.
    await reads(off, vOff, 1000);
    await reads(on, vOn, 1000);
    const total = { off: { n: 0, s: 0, cpu: 0 }, on: { n: 0, s: 0, cpu: 0 } };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating order, so drift in the machine's load falls on both sides.
      for (const side of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const r = await reads(side === 'on' ? on : off, side === 'on' ? vOn : vOff, SECONDS * 1000);
        total[side].n += r.requests;
        total[side].s += r.requests / r.rps;
        total[side].cpu += (r.cpuUs ?? 0) * r.requests;
      }
    }
    // Let the last batch reach the receiver: tracing on must really have exported.
    await new Promise((r) => setTimeout(r, 1500));
    if (receiver.bytes() === 0) throw new Error('tracing on exported nothing');
    const rps = { off: total.off.n / total.off.s, on: total.on.n / total.on.s };
    const cpu = { off: total.off.cpu / total.off.n, on: total.on.cpu / total.on.n };
    return [
      {
        name: `item read with tracing on, ${DB} (server CPU ${cpu.on.toFixed(0)} us/req vs ${cpu.off.toFixed(0)}; ${(receiver.bytes() / 1e6).toFixed(1)} MB of spans exported)`,
        value: rps.on,
        unit: 'req/s',
        baseline: { name: 'tracing off', value: rps.off },
        ratio: rps.on / rps.off,
        target: '>= 0.95',
        pass: rps.on / rps.off >= 0.95,
      },
    ];
  } finally {
    await on.stop();
    await off.stop();
    await receiver.close();
  }
}
