import { MAX_TEXT_CHARS } from '../extract.js';
import { ExtractionFailure, type ExtractionCode } from './reasons.js';
import { runWorkerOnce } from '../run-worker.js';

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
export async function readDocument(kind: DocumentKind, bytes: Uint8Array, limits: DocumentLimits): Promise<DocumentText> {
  const r = await runWorkerOnce<({ ok: true } & DocumentText) | { ok: false; code: ExtractionCode }>(
    new URL('./doc-worker.mjs', import.meta.url),
    bytes,
    { kind, maxChars: MAX_TEXT_CHARS, maxUnzipped: limits.maxUnzippedBytes, maxDepth: limits.maxDepth, maxAttachments: limits.maxAttachments },
    limits.timeoutMs,
    { maxOldGenerationSizeMb: 512, stackSizeMb: 4 },
  );
  if ('timedOut' in r) throw new ExtractionFailure('timed_out');
  // The heap limit was hit (ERR_WORKER_OUT_OF_MEMORY) or the worker crashed.
  if ('error' in r) throw new ExtractionFailure(r.error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'unzips_too_large' : 'damaged');
  const m = r.message;
  if (!m.ok) throw new ExtractionFailure(m.code);
  return { text: m.text, pages: m.pages, attachments: m.attachments, mail: m.mail };
}
