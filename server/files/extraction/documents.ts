import { Worker } from 'node:worker_threads';
import { MAX_TEXT_CHARS } from '../extract.js';
import { ExtractionFailure, type ExtractionCode } from './reasons.js';
import { workerResourceLimits } from '../../worker-heap.js';

export type DocumentKind = 'docx' | 'xlsx' | 'ods' | 'pptx' | 'html' | 'eml' | 'mbox';

export interface DocumentLimits {
  timeoutMs: number;
  maxUnzippedBytes: number;
  maxDepth: number;
  maxAttachments: number;
}

export interface DocumentText {
  text: string;
  pages?: number;
  attachments?: Array<{ name: string; contentType: string; bytes: Uint8Array }>;
  mail?: { subject: string; date?: string };
}

/**
 * Reads one document in a worker thread (doc-worker.mjs) with a heap limit, terminated when it
 * runs past `timeoutMs`: a hostile file costs at most that much time and memory.
 */
export function readDocument(kind: DocumentKind, bytes: Uint8Array, limits: DocumentLimits): Promise<DocumentText> {
  return new Promise((resolve, reject) => {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const worker = new Worker(new URL('./doc-worker.mjs', import.meta.url), {
      workerData: {
        kind,
        bytes: copy,
        maxChars: MAX_TEXT_CHARS,
        maxUnzipped: limits.maxUnzippedBytes,
        maxDepth: limits.maxDepth,
        maxAttachments: limits.maxAttachments,
      },
      transferList: [copy as ArrayBuffer],
      resourceLimits: workerResourceLimits({ maxOldGenerationSizeMb: 512, stackSizeMb: 4 }),
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ExtractionFailure('timed_out'));
    }, limits.timeoutMs);
    worker.once('message', (m: ({ ok: true } & DocumentText) | { ok: false; code: ExtractionCode }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve({ text: m.text, pages: m.pages, attachments: m.attachments, mail: m.mail });
      else reject(new ExtractionFailure(m.code));
    });
    // The heap limit was hit (ERR_WORKER_OUT_OF_MEMORY) or the worker crashed.
    worker.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ExtractionFailure(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'unzips_too_large' : 'damaged'));
    });
  });
}
