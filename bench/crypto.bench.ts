/**
 * Crypto benchmarks: native (OpenSSL) vs pure-JS AES-GCM, STREAM overhead over raw GCM, and
 * the passphrase KDF cost. Run alone:
 *   npx tsx -e "import('./bench/crypto.bench.ts').then(m=>m.default()).then(console.log)"
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gcm } from '@noble/ciphers/aes.js';
import { createDecryptStream, createEncryptStream, derivePassphraseKey, newKdfParams, randomKey, SEGMENT_SIZE } from '../crypto/index.js';
import type { BenchResult } from './types.js';

const MiB = 1024 * 1024;
const mbps = (bytes: number, ms: number): number => round(bytes / MiB / (ms / 1000));
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Best (minimum) wall time of `reps` runs, in ms: the least noisy estimate on a shared box. */
async function best(reps: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function nodeGcmEncrypt(key: Buffer, iv: Buffer, pt: Buffer): { ct: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

async function aesNativeVsNoble(): Promise<BenchResult> {
  const size = 64 * MiB;
  const pt = randomFillSync(Buffer.allocUnsafe(size));
  const key = randomKey();
  const iv = randomFillSync(Buffer.alloc(12));
  nodeGcmEncrypt(key, iv, pt.subarray(0, MiB)); // warm up
  const nativeMs = await best(3, () => nodeGcmEncrypt(key, iv, pt));
  gcm(key, iv).encrypt(pt.subarray(0, MiB));
  const nobleMs = await best(1, () => gcm(key, iv).encrypt(pt));
  // Same input, key and IV must give the same bytes, or the comparison is meaningless.
  const a = nodeGcmEncrypt(key, iv, pt.subarray(0, 4096));
  const b = gcm(key, iv).encrypt(pt.subarray(0, 4096));
  if (!Buffer.concat([a.ct, a.tag]).equals(Buffer.from(b))) throw new Error('node and noble GCM disagree');
  const native = mbps(size, nativeMs);
  const noble = mbps(size, nobleMs);
  const ratio = round(native / noble, 2);
  return {
    name: 'AES-256-GCM encrypt 64 MiB, node:crypto',
    value: native,
    unit: 'MB/s',
    baseline: { name: '@noble/ciphers gcm (pure JS)', value: noble },
    ratio,
    target: 'node:crypto >= 5x noble',
    pass: ratio >= 5,
  };
}

async function streamVsRaw(): Promise<BenchResult> {
  const size = 256 * MiB;
  const pt = randomFillSync(Buffer.allocUnsafe(size));
  const key = randomKey();
  const iv = randomFillSync(Buffer.alloc(12));

  // Baseline: one GCM encryption and one decryption over the same bytes, fed in 64 KiB
  // update() calls with output discarded (a one-shot call would mostly measure allocating and
  // page-faulting 256 MiB output buffers, not AES).
  const rawMs = await best(2, () => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    for (let i = 0; i < size; i += SEGMENT_SIZE) c.update(pt.subarray(i, i + SEGMENT_SIZE));
    c.final();
    const tag = c.getAuthTag();
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    for (let i = 0; i < size; i += SEGMENT_SIZE) d.update(pt.subarray(i, i + SEGMENT_SIZE));
    // Decrypting the plaintext as if it were ciphertext costs the same; the tag check fails, so skip final().
  });

  // Encrypt -> decrypt in one pipeline, fed in 64 KiB chunks like a file read, checking the output.
  const streamOnce = async (): Promise<void> => {
    const chunks = (function* () {
      for (let i = 0; i < size; i += SEGMENT_SIZE) yield pt.subarray(i, i + SEGMENT_SIZE);
    })();
    let off = 0;
    await pipeline(
      Readable.from(chunks),
      createEncryptStream(key, 'bench'),
      createDecryptStream(key, 'bench'),
      new Writable({
        write(c: Buffer, _e, cb) {
          if (!c.equals(pt.subarray(off, off + c.length))) return cb(new Error('stream round trip mismatch'));
          off += c.length;
          cb();
        },
      }),
    );
    if (off !== size) throw new Error('stream round trip lost bytes');
  };
  const streamMs = await best(2, streamOnce);
  const stream = mbps(size, streamMs);
  const raw = mbps(size, rawMs);
  const ratio = round(stream / raw, 2);
  return {
    name: 'STREAM encrypt+decrypt 256 MiB (64 KiB segments, pipeline)',
    value: stream,
    unit: 'MB/s',
    baseline: { name: 'raw node:crypto AES-256-GCM encrypt+decrypt, 64 KiB updates', value: raw },
    ratio,
    target: 'stream >= 0.5x raw GCM',
    pass: ratio >= 0.5,
  };
}

async function passphraseKdf(): Promise<BenchResult> {
  const params = newKdfParams();
  await derivePassphraseKey('warm up the native module', params);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await derivePassphraseKey('correct horse battery staple', params);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const median = round(times[2]!, 0);
  return {
    name: `derivePassphraseKey (argon2id m=${params.memoryKiB} KiB t=${params.iterations} p=${params.parallelism}), median of 5`,
    value: median,
    unit: 'ms',
    target: '150-500 ms',
    pass: median >= 150 && median <= 500,
  };
}

/** Runs all crypto benchmarks sequentially (they would distort each other in parallel). */
export default async function run(): Promise<BenchResult[]> {
  return [await aesNativeVsNoble(), await streamVsRaw(), await passphraseKdf()];
}
