/**
 * The Apple Health import's CPU-bound part, in a worker thread: decrypting the upload, parsing
 * its XML, aggregating samples into day chunks and sealing those as new rows. The main thread
 * only stores what comes out (see apple-health-job.ts). The parser's garbage (strings, attribute
 * objects, sample objects) then lives in this thread's small heap instead of growing the
 * server's, and parsing overlaps the database writes. The job, with the file key and the vault's
 * series subkey, arrives by message (the worker may be started before its job exists); the keys
 * stay in memory and are zeroed when the job ends.
 */
import { parentPort } from 'node:worker_threads';
import { createSeriesSink, importAppleHealth, isImportError } from '../../integrations/apple-health/index.js';
import { sealNewChunk } from '../codec/series.js';
import type { ImportProgress, RecordInput } from '../../integrations/types.js';
import { ImportFiles } from './encrypted-file.js';
import type { FromWorker, WorkerInput } from './apple-health-job.js';

const port = parentPort!;

// Backpressure: at most `window` batches wait on the main thread; the parser stops meanwhile.
let unacked = 0;
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
  port.postMessage(msg);
  unacked++;
  while (unacked >= window) await new Promise<void>((r) => (wake = r));
};

async function run(input: WorkerInput, seal: { key: Buffer; aad: string }, seriesKey: Buffer): Promise<void> {
  const files = new ImportFiles(input.root);
  const sink = createSeriesSink(
    {
      chunks: (batch) => send({ t: 'chunks', sealed: batch.map((c) => sealNewChunk(seriesKey, input.userId, c)) }, input.window),
      records: (batch: RecordInput[]) => send({ t: 'records', batch }, input.window),
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
      port.postMessage({
        t: 'error',
        name: String(e?.name ?? 'Error'),
        code: isImportError(err) ? err.code : typeof e?.code === 'string' ? e.code : undefined,
        message: isImportError(err) ? err.message : undefined,
        stack: String(e?.stack ?? '').split('\n').slice(1, 8).join('\n'),
      } satisfies FromWorker);
    },
  );
}
