/**
 * age passphrase key derivation (exports and export imports): the event loop's longest stall
 * and the wall time of one scrypt at log2 N = 18, this project's native thread-pool derivation
 * against the age-encryption library's synchronous one (the baseline, what ran before issue 11).
 * No database involved. Run alone:
 *   npx tsx -e "import('./bench/age-kdf.bench.ts').then(m=>m.default()).then(console.log)"
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Encrypter } from 'age-encryption';
import { ageEncryptStream } from '../crypto/index.js';
import type { BenchResult } from './types.js';

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function measure(work: () => Promise<unknown>): Promise<{ stallMs: number; wallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Node records a delay only from the timer's second tick on.
  await new Promise((r) => setTimeout(r, 30));
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 30));
  h.disable();
  return { stallMs: h.max / 1e6, wallMs };
}

export default async function run(): Promise<BenchResult[]> {
  const plain = Buffer.from('bench');
  const ours = await measure(async () => {
    for await (const _ of await ageEncryptStream(Readable.from([plain]), { passphrase: 'bench passphrase' }));
  });
  const library = await measure(async () => {
    const e = new Encrypter();
    e.setPassphrase('bench passphrase');
    e.setScryptWorkFactor(18);
    await e.encrypt(plain);
  });
  const stallRatio = round(library.stallMs / Math.max(ours.stallMs, 1), 1);
  return [
    {
      name: 'age passphrase export: longest event-loop stall (scrypt 2^18)',
      value: round(ours.stallMs),
      unit: 'ms',
      baseline: { name: 'age-encryption synchronous scrypt', value: round(library.stallMs) },
      ratio: stallRatio,
      target: '< 100 ms',
      pass: ours.stallMs < 100,
    },
    {
      name: 'age passphrase export: scrypt 2^18 wall time, native on the thread pool',
      value: round(ours.wallMs),
      unit: 'ms',
      baseline: { name: 'age-encryption synchronous scrypt', value: round(library.wallMs) },
      ratio: round(library.wallMs / ours.wallMs, 2),
      target: 'not slower than the library',
      pass: ours.wallMs <= library.wallMs * 1.1,
    },
  ];
}
