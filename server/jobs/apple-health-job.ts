/**
 * Runs a health import's decrypt + parse + day-chunk aggregation + chunk sealing in a worker
 * thread (apple-health-worker.ts: Apple Health exports, and Fitbit archives, whose JSON files are
 * parsed whole) and hands what comes out to the caller's store functions on this thread, one
 * batch at a time and in order. A bounded window of batches in flight keeps both
 * threads busy while capping memory: the worker waits when the store falls behind.
 */
import { Worker } from 'node:worker_threads';
import { asBuffer } from '../db/index.js';
import { bundleWorker } from './worker-bundle.js';
import { workerResourceLimits } from '../worker-heap.js';
import { COMPILED } from '../compiled.js';
import { ImportError, type ImportErrorCode } from '../../integrations/apple-health/index.js';
import { ImportError as FitbitImportError, type ImportErrorCode as FitbitImportErrorCode } from '../../integrations/fitbit/archive.js';
import type { FitbitSkipped, FitbitWarning } from '../../integrations/fitbit/import.js';
import type { ImportProgress, RecordInput } from '../../integrations/types.js';
import type { SealedChunk } from '../codec/series.js';
import type { FileSeal } from './encrypted-file.js';
import type { StorageSpec } from '../storage/object-store.js';

/** What the worker parses: an Apple Health export (zip or xml) or a Fitbit archive (zip or tgz). */
export type WorkerFormat = 'zip' | 'xml' | 'fitbit-zip' | 'fitbit-tgz';

/** What the worker gets (in memory only: the key is never written anywhere). */
export interface WorkerInput {
  /** The import files' store (plain data; S3 credentials stay in memory like the key). */
  storage: StorageSpec;
  userId: string;
  jobId: string;
  format: WorkerFormat;
  /** Fitbit: the IANA zone the archive's naive local times are read in. */
  timezone?: string;
  /** Fitbit: zones earlier imports were read in, whose shifted samples are retracted. */
  previousZones?: string[];
  /** Fitbit: the unit of the classic weight files, when the person gave it. */
  weightUnit?: 'kg' | 'lb';
  key: Uint8Array;
  aad: string;
  /** The vault's `series` subkey: the worker seals day chunks as new rows (codec/series.ts). */
  seriesKey: Uint8Array;
  maxOpenChunks: number;
  maxOpenSamples: number;
  maxOpenBytes: number;
  /** Batches posted and not yet stored before the worker waits. */
  window: number;
}

export type FromWorker =
  | { t: 'chunks'; sealed: SealedChunk[] }
  /** Day chunks (sealed like additions) of samples to remove where stored (Fitbit, another zone). */
  | { t: 'retract'; sealed: SealedChunk[] }
  | { t: 'records'; batch: RecordInput[] }
  | { t: 'progress'; p: ImportProgress }
  | { t: 'done'; heapPeak: number; unknownFiles?: number; fitbitSkipped?: FitbitSkipped; warnings?: FitbitWarning[]; undatedSamples?: number; leftOut: number }
  | { t: 'error'; name: string; code?: string; message?: string; stack: string };

export interface AppleHealthStore {
  chunks(batch: SealedChunk[]): Promise<void>;
  /** Removes these samples from their stored days; each batch comes before the chunks that follow it. */
  retract?(batch: SealedChunk[]): Promise<void>;
  records(batch: RecordInput[]): Promise<void>;
  progress(p: ImportProgress): void;
}

export interface AppleHealthJobOptions {
  storage: StorageSpec;
  userId: string;
  jobId: string;
  format: WorkerFormat;
  timezone?: string;
  /** Fitbit: zones earlier imports of the person's archives were read in (see importFitbitArchive). */
  previousZones?: string[];
  weightUnit?: 'kg' | 'lb';
  seal: FileSeal;
  seriesKey: Uint8Array;
  signal: AbortSignal;
  /** Day chunks kept open in the worker (default 64), samples (default 50,000) and bytes (8 MiB). */
  maxOpenChunks?: number;
  maxOpenSamples?: number;
  maxOpenBytes?: number;
  window?: number;
  /** The worker's old-generation heap limit in MB (default: WORKER_HEAP_MB for the format). */
  heapLimitMb?: number;
}

/** What a finished run reports. */
export interface AppleHealthRunStats {
  /** The most heap the worker was seen using, in bytes. */
  heapPeak: number;
  /** Its heap limit, in MB. */
  heapLimitMb: number;
  /** Fitbit: files in the archive that were not imported (unknown or unsupported). */
  unknownFiles?: number;
  /** Fitbit: files and entries in the archive that could not be read, so were not imported. */
  fitbitSkipped?: FitbitSkipped;
  /** Fitbit: what the person should know (fixed sentences and counts; see FitbitWarning). */
  warnings?: FitbitWarning[];
  /** Apple Health: samples left out because a date is missing, unreadable or before its start. */
  undatedSamples?: number;
  /** Samples left out: a unit that does not convert to its day's, or a value not finite or plausible. */
  leftOut: number;
}

/**
 * The worker's old-generation heap limit. The parse, its batches and the open day chunks are
 * bounded far below this whatever the file's order or size; a zip also parses each clinical
 * FHIR JSON file whole (up to 64 MiB of text, several times that as objects), hence more there;
 * a Fitbit archive parses each JSON file whole too, but those stop at 32 MiB.
 */
export const WORKER_HEAP_MB: Record<WorkerFormat, number> = { zip: 512, xml: 128, 'fitbit-zip': 256, 'fitbit-tgz': 256 };

/** An error from the worker, rebuilt on this thread with its name (and, for refusals, message). */
function rebuild(m: FromWorker & { t: 'error' }, format: WorkerFormat): Error {
  if (m.name === 'ImportError' && m.code && m.message !== undefined)
    return format.startsWith('fitbit-')
      ? new FitbitImportError(m.code as FitbitImportErrorCode, m.message)
      : new ImportError(m.code as ImportErrorCode, m.message);
  const e = new Error(`${m.name} in the health import worker`);
  e.name = m.name;
  if (m.code) (e as Error & { code?: string }).code = m.code;
  e.stack = `${m.name}\n${m.stack}`;
  return e;
}

// In the production build the worker is its compiled entry, loaded directly. From the sources
// (tsx, tests) it runs bundled (worker-bundle.ts) once the bundle is ready; until then, or if it
// cannot be built, through the .mjs entry and the tsx loader.
const WORKER_ENTRY = new URL(COMPILED ? './apple-health-worker.js' : './apple-health-worker.mjs', import.meta.url);
let bundled: string | undefined;
let bundling: Promise<void> | undefined;

/** Starts building the worker bundle (once); resolves when it is built or known unavailable. */
export function prepareWorkerBundle(): Promise<boolean> {
  if (COMPILED) return Promise.resolve(false);
  bundling ??= bundleWorker(new URL('./apple-health-worker.ts', import.meta.url)).then((code) => {
    bundled = code;
  });
  return bundling.then(() => bundled !== undefined);
}

function startWorker(format: WorkerFormat, heapLimitMb: number = WORKER_HEAP_MB[format]): Worker {
  // The parser's working set is small; a cap makes V8 collect instead of growing the heap.
  const resourceLimits = workerResourceLimits({ maxOldGenerationSizeMb: heapLimitMb });
  // execArgv: [] keeps the parent's `--import tsx` (and its loader thread) out of the worker.
  if (bundled) return new Worker(bundled, { eval: true, execArgv: [], resourceLimits });
  return COMPILED ? new Worker(WORKER_ENTRY, { execArgv: [], resourceLimits }) : new Worker(WORKER_ENTRY, { resourceLimits });
}

/**
 * Import workers started while their upload is still streaming in: loading the worker's modules
 * takes ~0.7 s here, which then overlaps the upload instead of delaying the job. A worker whose
 * job has not started within `ttlMs` (queued behind others, or the upload was refused) is
 * stopped; the job then starts a fresh one.
 */
export class AppleHealthWorkers {
  readonly #warm = new Map<string, { worker: Worker; format: WorkerFormat; timer: NodeJS.Timeout }>();

  constructor(private readonly ttlMs = 60_000) {
    void prepareWorkerBundle();
  }

  /** Never throws: a worker that cannot start now is started again when the job runs. */
  prewarm(jobId: string, format: WorkerFormat): void {
    this.discard(jobId);
    let worker: Worker;
    try {
      worker = startWorker(format);
    } catch {
      return;
    }
    // An idle warm worker must not keep the process alive, nor crash it.
    worker.unref();
    const entry = { worker, format, timer: setTimeout(() => this.discard(jobId), this.ttlMs).unref() };
    worker.on('error', () => {});
    // A worker that dies while warm is dropped, so take() never hands one out.
    worker.once('exit', () => {
      if (this.#warm.get(jobId) === entry) this.discard(jobId);
    });
    this.#warm.set(jobId, entry);
  }

  /** The warm worker for this job, if one is still alive for the same format. */
  take(jobId: string, format: WorkerFormat): Worker | undefined {
    const entry = this.#warm.get(jobId);
    if (!entry) return undefined;
    this.#warm.delete(jobId);
    clearTimeout(entry.timer);
    if (entry.format !== format) {
      void entry.worker.terminate();
      return undefined;
    }
    entry.worker.ref();
    return entry.worker;
  }

  discard(jobId: string): void {
    const entry = this.#warm.get(jobId);
    if (!entry) return;
    this.#warm.delete(jobId);
    clearTimeout(entry.timer);
    void entry.worker.terminate();
  }

  close(): void {
    for (const id of [...this.#warm.keys()]) this.discard(id);
  }
}

export function runAppleHealthInWorker(opts: AppleHealthJobOptions, store: AppleHealthStore, warm?: Worker): Promise<AppleHealthRunStats> {
  opts.signal.throwIfAborted();
  const input: WorkerInput = {
    storage: opts.storage,
    userId: opts.userId,
    jobId: opts.jobId,
    format: opts.format,
    timezone: opts.timezone,
    previousZones: opts.previousZones,
    weightUnit: opts.weightUnit,
    key: new Uint8Array(opts.seal.key),
    aad: opts.seal.aad,
    seriesKey: new Uint8Array(opts.seriesKey),
    maxOpenChunks: opts.maxOpenChunks ?? 64,
    maxOpenSamples: opts.maxOpenSamples ?? 50_000,
    maxOpenBytes: opts.maxOpenBytes ?? 8 * 1024 * 1024,
    window: opts.window ?? 3,
  };
  const heapLimitMb = opts.heapLimitMb ?? WORKER_HEAP_MB[opts.format];
  let heapPeak = 0;
  let unknownFiles: number | undefined;
  let fitbitSkipped: FitbitSkipped | undefined;
  let warnings: FitbitWarning[] | undefined;
  let undatedSamples: number | undefined;
  let leftOut = 0;
  return new Promise<AppleHealthRunStats>((resolve, reject) => {
    // A warm worker has the default limit; a run asking for another starts its own.
    if (warm && opts.heapLimitMb !== undefined) void warm.terminate();
    const worker = (opts.heapLimitMb === undefined ? warm : undefined) ?? startWorker(opts.format, heapLimitMb);
    // The job's input, keys included, goes by message (transferred, so no copy stays here).
    worker.postMessage({ t: 'start', input }, [input.key.buffer as ArrayBuffer, input.seriesKey.buffer as ArrayBuffer]);
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
        () => (err === undefined ? resolve({ heapPeak, heapLimitMb, unknownFiles, fitbitSkipped, warnings, undatedSamples, leftOut }) : reject(err)),
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
        case 'retract': {
          const retract = store.retract;
          if (retract) enqueue(() => retract(m.sealed.map((c) => ({ ...c, ciphertext: asBuffer(c.ciphertext), stats: asBuffer(c.stats) }))));
          else worker.postMessage({ t: 'ack' });
          return;
        }
        case 'records':
          enqueue(() => store.records(m.batch));
          return;
        case 'progress':
          store.progress(m.p);
          return;
        case 'done':
          heapPeak = m.heapPeak;
          unknownFiles = m.unknownFiles;
          fitbitSkipped = m.fitbitSkipped;
          warnings = m.warnings;
          undatedSamples = m.undatedSamples;
          leftOut = m.leftOut;
          finish();
          return;
        case 'error':
          finish(rebuild(m, opts.format));
          return;
      }
    });
    worker.on('error', (e) => finish(e));
    worker.on('exit', (code) => finish(new Error(`the health import worker exited (${code})`)));
  });
}
