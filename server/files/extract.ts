import { Worker } from 'node:worker_threads';
import { ExtractionFailure } from './extraction/reasons.js';
import { workerResourceLimits } from '../worker-heap.js';

/** Stored text per document is capped: beyond this, search and chat gain little. */
export const MAX_TEXT_CHARS = 2_000_000;

/** Form feed: page N of a document's text is its N-th `\f`-separated segment (PDF and OCR alike). */
export const PAGE_BREAK = '\f';

export interface PdfPage {
  text: string;
  /** Size in PDF points, to refuse rasterising an absurd page. */
  width: number;
  height: number;
}

/**
 * Extracts a PDF's text layer page by page off the main thread with a hard time limit: the
 * worker is terminated when it runs over, so a hostile PDF cannot hang the server.
 */
export function extractPdfPages(bytes: Buffer, timeoutMs: number): Promise<PdfPage[]> {
  return new Promise((resolve, reject) => {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const worker = new Worker(new URL('./pdf-worker.mjs', import.meta.url), {
      workerData: { bytes: copy, maxChars: MAX_TEXT_CHARS },
      transferList: [copy as ArrayBuffer],
      resourceLimits: workerResourceLimits({ maxOldGenerationSizeMb: 512 }),
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ExtractionFailure('timed_out'));
    }, timeoutMs);
    worker.once('message', (m: { ok: boolean; pages?: PdfPage[]; name?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.pages ?? []);
      else reject(new ExtractionFailure(m.name === 'PasswordException' ? 'encrypted' : 'damaged'));
    });
    worker.once('error', () => {
      clearTimeout(timer);
      reject(new ExtractionFailure('damaged'));
    });
  });
}

/** Joins page texts with the page break, capped at {@link MAX_TEXT_CHARS}. */
export function joinPages(pages: string[]): string {
  return pages
    .map((p) => p.replace(/\f/g, ' '))
    .join(PAGE_BREAK)
    .slice(0, MAX_TEXT_CHARS);
}

/** Decodes text files as UTF-8, dropping a BOM and NULs. */
export function decodeText(bytes: Buffer): string {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  // eslint-disable-next-line no-control-regex -- NULs are what it removes
  return text.replace(/\u0000/g, '').slice(0, MAX_TEXT_CHARS);
}
