/**
 * The Apple Health import's CPU-bound part, in a worker thread: decrypting the upload, parsing
 * its XML, aggregating samples into day chunks and sealing those as new rows. The main thread only stores what comes out
 * (see apple-health-job.ts). The parser's garbage (strings, attribute objects, sample objects)
 * then lives in this thread's small heap instead of growing the server's, and parsing overlaps
 * the database writes. The file key and the vault's series subkey arrive in memory through workerData and are never written.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSeriesSink, importAppleHealth, isImportError } from '../../integrations/apple-health/index.js';
import { sealNewChunk } from '../services/series-seal.js';
import type { ImportProgress, RecordInput } from '../../integrations/types.js';
import { ImportFiles } from './encrypted-file.js';
import type { FromWorker, WorkerInput } from './apple-health-job.js';

const input = workerData as WorkerInput;
const port = parentPort!;
const key = Buffer.from(input.key.buffer, input.key.byteOffset, input.key.byteLength);
const seal = { key, aad: input.aad };
const seriesKey = Buffer.from(input.seriesKey.buffer, input.seriesKey.byteOffset, input.seriesKey.byteLength);
const files = new ImportFiles(input.root);

// Backpressure: at most `window` batches wait on the main thread; the parser stops meanwhile.
let unacked = 0;
let wake: (() => void) | undefined;
port.on('message', (m: { t: string }) => {
  if (m.t !== 'ack') return;
  unacked--;
  const w = wake;
  wake = undefined;
  w?.();
});
const send = async (msg: FromWorker): Promise<void> => {
  port.postMessage(msg);
  unacked++;
  while (unacked >= input.window) await new Promise<void>((r) => (wake = r));
};

async function run(): Promise<void> {
  const sink = createSeriesSink(
    {
      chunks: (batch) => send({ t: 'chunks', sealed: batch.map((c) => sealNewChunk(seriesKey, input.userId, c)) }),
      records: (batch: RecordInput[]) => send({ t: 'records', batch }),
    },
    { maxOpenChunks: input.maxOpenChunks, maxOpenSamples: input.maxOpenSamples },
  );
  const onProgress = (p: ImportProgress) => port.postMessage({ t: 'progress', p } satisfies FromWorker);
  if (input.format === 'zip') {
    const zip = await files.openRandomAccess(input.userId, input.jobId, seal);
    try {
      await importAppleHealth({ zip }, sink, { onProgress });
    } finally {
      // yauzl closes the reader when the zip closes; this covers a zip that never opened.
      zip.reader.close(() => {});
    }
  } else {
    const size = await files.plainSize(input.userId, input.jobId);
    await importAppleHealth({ xml: () => files.openStream(input.userId, input.jobId, seal), size }, sink, { onProgress });
  }
  await sink.finish();
  // Waits for the last batches to be stored before saying done.
  while (unacked > 0) await new Promise<void>((r) => (wake = r));
  port.postMessage({ t: 'done' } satisfies FromWorker);
}

run().then(
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
    port.postMessage({
      t: 'error',
      name: String(e?.name ?? 'Error'),
      code: isImportError(err) ? err.code : typeof e?.code === 'string' ? e.code : undefined,
      message: isImportError(err) ? err.message : undefined,
      stack: String(e?.stack ?? '').split('\n').slice(1, 8).join('\n'),
    } satisfies FromWorker);
  },
);
