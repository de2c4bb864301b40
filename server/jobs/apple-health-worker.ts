/**
 * A health import's CPU-bound part, in a worker thread: decrypting the upload, parsing it (Apple
 * Health XML, or a Fitbit archive's CSV and JSON files), aggregating samples into day chunks and
 * sealing those as new rows. The main thread
 * only stores what comes out (see apple-health-job.ts). The parser's garbage (strings, attribute
 * objects, sample objects) then lives in this thread's small heap instead of growing the
 * server's, and parsing overlaps the database writes. The job, with the file key and the vault's
 * series subkey, arrives by message (the worker may be started before its job exists); the keys
 * stay in memory and are zeroed when the job ends.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { createSeriesSink, importAppleHealth, isImportError } from '../../integrations/apple-health/index.js';
import { ImportError as FitbitImportError, importFitbitArchive, type FitbitSkipped, type FitbitWarning } from '../../integrations/fitbit/import.js';
import type { DayChunk } from '../../integrations/series/day-chunk.js';
import { sealNewChunk, type SealedChunk } from '../codec/series.js';
import type { ImportProgress, RecordInput } from '../../integrations/types.js';
import { ImportFiles } from './encrypted-file.js';
import type { FromWorker, WorkerInput } from './apple-health-job.js';

const port = parentPort!;

// Backpressure: at most `window` batches wait on the main thread, each of at most
// MESSAGE_BYTES of sealed chunks (or one chunk); the parser stops meanwhile. The main thread
// answers each batch it has stored with an 'ack', a credit for one more.
const MESSAGE_BYTES = 1 << 20;
let unacked = 0;
// The largest heap this worker used, sampled as it goes; reported for the bench and tests.
let heapPeak = 0;
const sampleHeap = () => {
  const used = getHeapStatistics().used_heap_size;
  if (used > heapPeak) heapPeak = used;
};
let wake: (() => void) | undefined;
let started = false;
port.on('message', (m: { t: string; input?: WorkerInput }) => {
  if (m.t === 'start' && !started && m.input) {
    // The worker may be started ahead of its job (AppleHealthWorkers); the job arrives here.
    started = true;
    start(m.input);
    return;
  }
  if (m.t !== 'ack') return;
  unacked--;
  const w = wake;
  wake = undefined;
  w?.();
});
const send = async (msg: FromWorker, window: number): Promise<void> => {
  sampleHeap();
  port.postMessage(msg);
  unacked++;
  while (unacked >= window) await new Promise<void>((r) => (wake = r));
};

async function run(input: WorkerInput, seal: { key: Buffer; aad: string }, seriesKey: Buffer): Promise<void> {
  const files = await ImportFiles.open(input.storage);
  try {
    await parse(input, files, seal, seriesKey);
  } finally {
    await files.close();
  }
}

async function parse(input: WorkerInput, files: ImportFiles, seal: { key: Buffer; aad: string }, seriesKey: Buffer): Promise<void> {
  // Chunks are sealed and sent a message's worth at a time, so what waits is bounded in bytes.
  const sealAndSend = async (t: 'chunks' | 'retract', batch: DayChunk[]): Promise<void> => {
    let part: SealedChunk[] = [];
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) {
      const sealed = sealNewChunk(seriesKey, input.userId, batch[i]!);
      part.push(sealed);
      bytes += sealed.ciphertext.length + sealed.stats.length;
      if (bytes >= MESSAGE_BYTES || i === batch.length - 1) {
        await send({ t, sealed: part }, input.window);
        part = [];
        bytes = 0;
      }
    }
  };
  const fitbit = input.format === 'fitbit-zip' || input.format === 'fitbit-tgz';
  const limits = { maxOpenChunks: input.maxOpenChunks, maxOpenSamples: input.maxOpenSamples, maxOpenBytes: input.maxOpenBytes };
  // Fitbit samples an import in another zone stored, gathered into day chunks like additions
  // (and bounded alike), to be removed where stored. Whatever is open goes out before any
  // chunk of additions does, so the store removes before it adds.
  const retractions = createSeriesSink({ chunks: (batch) => sealAndSend('retract', batch), records: () => {} }, limits);
  const sink = createSeriesSink(
    {
      chunks: async (batch) => {
        await retractions.finish();
        await sealAndSend('chunks', batch);
      },
      records: (batch: RecordInput[]) => send({ t: 'records', batch }, input.window),
    },
    limits,
  );
  const onProgress = (p: ImportProgress) => {
    sampleHeap();
    port.postMessage({ t: 'progress', p } satisfies FromWorker);
  };
  let unknownFiles: number | undefined;
  let fitbitSkipped: FitbitSkipped | undefined;
  let warnings: FitbitWarning[] | undefined;
  let undatedSamples: number | undefined;
  if (fitbit) {
    const source =
      input.format === 'fitbit-tgz'
        ? { format: 'tgz' as const, openStream: () => files.openStream(input.userId, input.jobId, seal) }
        : { format: 'zip' as const, openZip: () => files.openRandomAccess(input.userId, input.jobId, seal) };
    const result = await importFitbitArchive(
      source,
      { samples: (batch) => sink.samples(batch), records: (batch) => sink.records(batch), retract: (batch) => retractions.samples(batch) },
      { timezone: input.timezone, previousZones: input.previousZones, weightUnit: input.weightUnit, onProgress },
    );
    unknownFiles = result.unknownFiles.length;
    fitbitSkipped = result.skipped;
    // Fixed sentences and counts only (never a file name), so they may cross into the job result.
    warnings = result.warnings;
  } else if (input.format === 'zip') {
    const zip = await files.openRandomAccess(input.userId, input.jobId, seal);
    try {
      undatedSamples = (await importAppleHealth({ zip }, sink, { onProgress })).counts.invalidDate;
    } finally {
      // yauzl closes the reader when the zip closes; this covers a zip that never opened.
      zip.reader.close(() => {});
    }
  } else {
    const size = await files.plainSize(input.userId, input.jobId);
    undatedSamples = (await importAppleHealth({ xml: () => files.openStream(input.userId, input.jobId, seal), size }, sink, { onProgress })).counts.invalidDate;
  }
  await retractions.finish();
  await sink.finish();
  // Waits for the last batches to be stored before saying done.
  while (unacked > 0) await new Promise<void>((r) => (wake = r));
  sampleHeap();
  port.postMessage({ t: 'done', heapPeak, unknownFiles, fitbitSkipped, warnings, undatedSamples, leftOut: sink.leftOut } satisfies FromWorker);
}

function start(input: WorkerInput): void {
  const key = Buffer.from(input.key.buffer, input.key.byteOffset, input.key.byteLength);
  const seriesKey = Buffer.from(input.seriesKey.buffer, input.seriesKey.byteOffset, input.seriesKey.byteLength);
  run(input, { key, aad: input.aad }, seriesKey).then(
    () => {
      key.fill(0);
      seriesKey.fill(0);
      port.unref();
    },
    (err: unknown) => {
      key.fill(0);
      seriesKey.fill(0);
      port.unref();
      const e = err as Error & { code?: string };
      // The message crosses only for refusals written for the person (ImportError); anything else
      // keeps its name and stack frames, never a message that might quote the input.
      const refusal = isImportError(err) || err instanceof FitbitImportError;
      port.postMessage({
        t: 'error',
        name: String(e?.name ?? 'Error'),
        code: refusal ? e.code : typeof e?.code === 'string' ? e.code : undefined,
        message: refusal ? e.message : undefined,
        stack: String(e?.stack ?? '')
          .split('\n')
          .slice(1, 8)
          .join('\n'),
      } satisfies FromWorker);
    },
  );
}
