import { runWorkerOnce } from '../run-worker.js';

/** A page whose pictures cover at least this share of it is a picture of a page, for OCR. */
export const PICTURE_PAGE = 0.5;

/**
 * For each of `pages` (1-based), the share of its area its images cover (0 to 1; overlapping
 * images count twice, capped at 1), read in a worker (pdf-images-worker.mjs) with a heap limit
 * and terminated past `timeoutMs`. `firstOnly` stops at the first page at {@link PICTURE_PAGE}
 * or more, so the answer may be shorter than `pages`. Null when the pages could not be read in
 * time: the caller keeps their text layer as it is.
 */
export async function imageCoverage(bytes: Buffer, pages: number[], timeoutMs: number, firstOnly = false): Promise<number[] | null> {
  if (!pages.length) return [];
  const r = await runWorkerOnce<{ ok: boolean; covered?: number[] }>(
    new URL('./pdf-images-worker.mjs', import.meta.url),
    bytes,
    { pages, firstOnly, threshold: PICTURE_PAGE },
    timeoutMs,
  );
  return 'message' in r && r.message.ok ? (r.message.covered ?? []) : null;
}
