import { Worker, type ResourceLimits } from 'node:worker_threads';
import { workerResourceLimits } from '../worker-heap.js';

/** How a one-shot worker ended: its one message, the time limit, or an error (a crash, the heap limit). */
export type WorkerOutcome<M> = { message: M } | { timedOut: true } | { error: NodeJS.ErrnoException };

/**
 * Runs a worker that reads `bytes` and answers with one message, with a heap limit, terminated
 * past `timeoutMs`: a hostile file costs at most that much time and memory. The bytes are copied
 * once into a buffer the worker owns (`workerData.bytes`), so the caller's stay usable.
 */
export function runWorkerOnce<M>(
  url: URL,
  bytes: Uint8Array,
  data: Record<string, unknown>,
  timeoutMs: number,
  limits: ResourceLimits = { maxOldGenerationSizeMb: 512 },
): Promise<WorkerOutcome<M>> {
  return new Promise((resolve) => {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const worker = new Worker(url, { workerData: { ...data, bytes: copy }, transferList: [copy], resourceLimits: workerResourceLimits(limits) });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ timedOut: true });
    }, timeoutMs);
    worker.once('message', (message: M) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve({ message });
    });
    worker.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error });
    });
  });
}
