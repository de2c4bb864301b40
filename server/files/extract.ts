import { Worker } from 'node:worker_threads';

export class ExtractionError extends Error {}

/** Stored text per document is capped: beyond this, search and chat gain little. */
export const MAX_TEXT_CHARS = 2_000_000;

/**
 * Extracts a PDF's text off the main thread with a hard time limit: the worker is terminated
 * when it runs over, so a hostile PDF cannot hang the server.
 */
export function extractPdfText(bytes: Buffer, timeoutMs: number): Promise<{ text: string; pages: number }> {
  return new Promise((resolve, reject) => {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const worker = new Worker(new URL('./pdf-worker.mjs', import.meta.url), {
      workerData: { bytes: copy, maxChars: MAX_TEXT_CHARS },
      transferList: [copy as ArrayBuffer],
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ExtractionError('The PDF took too long to read.'));
    }, timeoutMs);
    worker.once('message', (m: { ok: boolean; text?: string; pages?: number }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve({ text: m.text ?? '', pages: m.pages ?? 0 });
      else reject(new ExtractionError('This PDF could not be read. It may be damaged or encrypted.'));
    });
    worker.once('error', () => {
      clearTimeout(timer);
      reject(new ExtractionError('This PDF could not be read. It may be damaged or encrypted.'));
    });
  });
}

/** Decodes text files as UTF-8, dropping a BOM and NULs. */
export function decodeText(bytes: Buffer): string {
  // eslint-disable-next-line no-control-regex -- NULs are what it removes
  return bytes.toString('utf8').replace(/^\uFEFF/, '').replace(/\u0000/g, '').slice(0, MAX_TEXT_CHARS);
}
