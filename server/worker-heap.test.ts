import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORKER_YOUNG_GENERATION_MB } from './worker-heap.js';

const MODULE = fileURLToPath(new URL('./worker-heap.ts', import.meta.url));
const MB = 1024 * 1024;

// Allocates enough short-lived objects for the young generation to grow to its maximum, then
// reports its size: the same code on the server's thread and in the worker.
const CHURN_AND_MEASURE = `(() => {
  let keep = [];
  for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 2e5) keep = []; }
  return require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
})()`;

const SCRIPT = `
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
const require = createRequire(import.meta.url);
const { workerResourceLimits } = await import(${JSON.stringify(MODULE)});
const worker = new Worker(
  "require('node:worker_threads').parentPort.postMessage(" + ${JSON.stringify(CHURN_AND_MEASURE)} + ")",
  { eval: true, execArgv: [], resourceLimits: workerResourceLimits({ maxOldGenerationSizeMb: 64 }) },
);
const inWorker = await new Promise((resolve) => worker.once('message', resolve));
await worker.terminate();
console.log(JSON.stringify({ server: ${CHURN_AND_MEASURE}, worker: inWorker }));
`;

describe('workerResourceLimits', () => {
  it("gives a worker its own young generation, not the server's --max-semi-space-size", () => {
    // Started like npm start, with a flag for a young generation larger than a worker's.
    const out = execFileSync(process.execPath, ['--max-semi-space-size=8', '--import', 'tsx', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8' });
    const sizes = JSON.parse(out.trim().split('\n').at(-1)!) as { server: number; worker: number };
    // The server's thread keeps the larger young generation it started with; the worker has its limit.
    expect(sizes.server).toBeGreaterThan(WORKER_YOUNG_GENERATION_MB * MB);
    expect(sizes.worker).toBeLessThanOrEqual(WORKER_YOUNG_GENERATION_MB * MB);
  });
});
