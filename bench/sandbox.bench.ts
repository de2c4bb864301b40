import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './types.js';
import { SandboxPool } from '../sandbox/pool.js';
import { ProcessRuntime } from '../test-support/sandbox/process-runtime.js';
import { bundleFakeOllama } from '../test-support/sandbox/bundle.js';
import { waitFor } from '../test-support/sandbox/wait.js';

const ROUNDS = 40;

function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
}

async function timeAcquire(pool: SandboxPool, user: string): Promise<number> {
  const t0 = performance.now();
  const lease = await pool.acquire(user);
  const ms = performance.now() - t0;
  lease.release();
  return ms;
}

/**
 * Warm-pool acquire latency with the process runtime (real child processes running the Ollama
 * stand-in). "warm": a new user gets an already running, unassigned sandbox; "returning": the
 * same user again gets their idle sandbox. Baseline: acquire with nothing warm (minWarm 0), i.e.
 * paying a sandbox start each time, which is what the warm pool exists to hide.
 */
export default async function run(): Promise<BenchResult[]> {
  await bundleFakeOllama();
  const stateDir = mkdtempSync(join(tmpdir(), 'cv-bench-'));
  const base = { maxUses: 1000, maxAgeMs: 600_000, queueMax: 16, acquireTimeoutMs: 30_000 };
  const warmPool = new SandboxPool(new ProcessRuntime({ stateDir: join(stateDir, 'warm') }), { ...base, minWarm: 2, max: 4 });
  const coldPool = new SandboxPool(new ProcessRuntime({ stateDir: join(stateDir, 'cold') }), { ...base, minWarm: 0, max: 1 });
  try {
    await warmPool.start();
    await coldPool.start();
    const warm: number[] = [];
    const returning: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Wait for the pool to refill, as it would between requests in real use.
      await waitFor(() => warmPool.metrics().warm >= 2, 10_000, 'warm refill');
      warm.push(await timeAcquire(warmPool, `user-${i}`));
      returning.push(await timeAcquire(warmPool, `user-${i}`));
      cold.push(await timeAcquire(coldPool, `user-${i}`));
    }
    const coldP50 = percentile(cold, 0.5);
    const coldP95 = percentile(cold, 0.95);
    const result = (name: string, value: number, baseline: { name: string; value: number }, target: string, limit: number): BenchResult => ({
      name,
      value: Number(value.toFixed(3)),
      unit: 'ms',
      baseline: { name: baseline.name, value: Number(baseline.value.toFixed(3)) },
      ratio: value > 0 ? Number((baseline.value / value).toFixed(1)) : undefined,
      target,
      pass: value < limit,
    });
    return [
      result('sandbox.acquire.warm.p50', percentile(warm, 0.5), { name: 'acquire without warm pool p50', value: coldP50 }, '< 5 ms', 5),
      result('sandbox.acquire.warm.p95', percentile(warm, 0.95), { name: 'acquire without warm pool p95', value: coldP95 }, '< 20 ms', 20),
      result('sandbox.acquire.returning.p50', percentile(returning, 0.5), { name: 'acquire without warm pool p50', value: coldP50 }, '< 1 ms', 1),
      result('sandbox.acquire.returning.p95', percentile(returning, 0.95), { name: 'acquire without warm pool p95', value: coldP95 }, '< 5 ms', 5),
    ];
  } finally {
    await Promise.all([warmPool.drain(2000), coldPool.drain(2000)]);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await run());
}
