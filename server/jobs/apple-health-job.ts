/**
 * Runs the Apple Health import's decrypt + parse + day-chunk aggregation + chunk sealing in a worker thread
 * (apple-health-worker.ts) and hands what comes out to the caller's store functions on this
 * thread, one batch at a time and in order. A bounded window of batches in flight keeps both
 * threads busy while capping memory: the worker waits when the store falls behind.
 */
import { Worker } from 'node:worker_threads';
import { asBuffer } from '../db/index.js';
import { ImportError, type ImportErrorCode } from '../../integrations/apple-health/index.js';
import type { ImportProgress, RecordInput } from '../../integrations/types.js';
import type { SealedChunk } from '../services/series-seal.js';
import type { FileSeal } from './encrypted-file.js';

/** What the worker gets (in memory only: the key is never written anywhere). */
export interface WorkerInput {
  root: string;
  userId: string;
  jobId: string;
  format: 'zip' | 'xml';
  key: Uint8Array;
  aad: string;
  /** The vault's `series` subkey: the worker seals day chunks as new rows (series-seal.ts). */
  seriesKey: Uint8Array;
  maxOpenChunks: number;
  maxOpenSamples: number;
  /** Batches posted and not yet stored before the worker waits. */
  window: number;
}

export type FromWorker =
  | { t: 'chunks'; sealed: SealedChunk[] }
  | { t: 'records'; batch: RecordInput[] }
  | { t: 'progress'; p: ImportProgress }
  | { t: 'done' }
  | { t: 'error'; name: string; code?: string; message?: string; stack: string };

export interface AppleHealthStore {
  chunks(batch: SealedChunk[]): Promise<void>;
  records(batch: RecordInput[]): Promise<void>;
  progress(p: ImportProgress): void;
}

export interface AppleHealthJobOptions {
  root: string;
  userId: string;
  jobId: string;
  format: 'zip' | 'xml';
  seal: FileSeal;
  seriesKey: Uint8Array;
  signal: AbortSignal;
  /** Day chunks kept open in the worker (default 64) and samples (default 50,000). */
  maxOpenChunks?: number;
  maxOpenSamples?: number;
  window?: number;
}

/** An error from the worker, rebuilt on this thread with its name (and, for refusals, message). */
function rebuild(m: FromWorker & { t: 'error' }): Error {
  if (m.name === 'ImportError' && m.code && m.message !== undefined) return new ImportError(m.code as ImportErrorCode, m.message);
  const e = new Error(`${m.name} in the Apple Health import worker`);
  e.name = m.name;
  if (m.code) (e as Error & { code?: string }).code = m.code;
  e.stack = `${m.name}\n${m.stack}`;
  return e;
}

export function runAppleHealthInWorker(opts: AppleHealthJobOptions, store: AppleHealthStore): Promise<void> {
  opts.signal.throwIfAborted();
  const input: WorkerInput = {
    root: opts.root,
    userId: opts.userId,
    jobId: opts.jobId,
    format: opts.format,
    key: new Uint8Array(opts.seal.key),
    aad: opts.seal.aad,
    seriesKey: new Uint8Array(opts.seriesKey),
    maxOpenChunks: opts.maxOpenChunks ?? 64,
    maxOpenSamples: opts.maxOpenSamples ?? 50_000,
    window: opts.window ?? 3,
  };
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL('./apple-health-worker.mjs', import.meta.url), {
      workerData: input,
      transferList: [input.key.buffer as ArrayBuffer, input.seriesKey.buffer as ArrayBuffer],
      // The parser's working set is small; a cap makes V8 collect instead of growing the heap.
      // A zip may hold clinical FHIR JSON of up to 64 MB, parsed whole, hence more room there.
      resourceLimits: { maxOldGenerationSizeMb: opts.format === 'zip' ? 512 : 128, maxYoungGenerationSizeMb: 16 },
    });
    let settled = false;
    let failed: unknown;
    // Batches are stored strictly in order, each after the one before.
    let chain: Promise<void> = Promise.resolve();
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      // A store call in flight finishes (or fails) before the job's outcome is recorded.
      chain.then(
        () => (err === undefined ? resolve() : reject(err)),
        (e: unknown) => reject(err ?? e),
      );
    };
    const onAbort = () => finish(opts.signal.reason);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(async () => {
        if (settled || failed !== undefined) return;
        try {
          await work();
          worker.postMessage({ t: 'ack' });
        } catch (e) {
          failed = e;
          finish(e);
        }
      });
    };
    worker.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'chunks':
          // Structured cloning turns the worker's Buffers into plain Uint8Arrays.
          enqueue(() => store.chunks(m.sealed.map((c) => ({ ...c, ciphertext: asBuffer(c.ciphertext), stats: asBuffer(c.stats) }))));
          return;
        case 'records':
          enqueue(() => store.records(m.batch));
          return;
        case 'progress':
          store.progress(m.p);
          return;
        case 'done':
          finish();
          return;
        case 'error':
          finish(rebuild(m));
          return;
      }
    });
    worker.on('error', (e) => finish(e));
    worker.on('exit', (code) => finish(new Error(`the Apple Health import worker exited (${code})`)));
  });
}
