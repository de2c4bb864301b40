import { imageSize } from 'image-size';
import { findExecutable, runLimited, type ChildLimits } from './child.js';
import { ExtractionFailure } from './reasons.js';

export interface OcrOptions {
  tesseractPath: string;
  pdftoppmPath: string;
  langs: string;
  dpi: number;
  maxPixels: number;
  pageTimeoutMs: number;
  memoryMb: number;
}

/** Image formats Tesseract (through Leptonica) decodes here; HEIC is not among them. */
export const OCR_IMAGE_TYPES = new Set(['png', 'jpg', 'tiff', 'webp', 'gif', 'bmp', 'pnm']);

const limits = (o: OcrOptions, maxOutputBytes: number): ChildLimits => ({ timeoutMs: o.pageTimeoutMs, memoryMb: o.memoryMb, maxOutputBytes });

/**
 * Width, height and format from the image's header, read before any decoder sees the pixels:
 * a 60000 x 60000 PNG of a few KB would otherwise ask Tesseract for gigabytes.
 */
export function checkImage(bytes: Uint8Array, maxPixels: number): { width: number; height: number; type: string } {
  let dims: { width?: number; height?: number; type?: string };
  try {
    dims = imageSize(bytes);
  } catch {
    throw new ExtractionFailure('damaged');
  }
  const { width = 0, height = 0, type = '' } = dims;
  if (type === 'heif') throw new ExtractionFailure('heic_unsupported');
  if (!OCR_IMAGE_TYPES.has(type)) throw new ExtractionFailure('unsupported', 'none');
  if (!width || !height) throw new ExtractionFailure('damaged');
  if (width * height > maxPixels) throw new ExtractionFailure('image_too_large');
  return { width, height, type };
}

/** Recognises the text of one image: bytes in on stdin, text out on stdout. */
export async function ocrImage(bytes: Uint8Array, o: OcrOptions, signal?: AbortSignal): Promise<string> {
  const bin = findExecutable(o.tesseractPath);
  if (!bin) throw new ExtractionFailure('ocr_missing');
  const out = await runLimited(bin, ['stdin', 'stdout', '-l', o.langs, '--psm', '3'], bytes, limits(o, 16 * 1024 * 1024), 'ocr_missing', signal);
  return out.toString('utf8').replace(/\f/g, '').trim();
}

/**
 * One PDF page as PNG, by poppler reading the PDF on stdin and writing the page to stdout.
 * `pointsWide`/`pointsHigh` (from pdf.js) let an oversized page be refused before rendering.
 */
export async function rasterizePdfPage(
  pdf: Uint8Array,
  page: number,
  size: { pointsWide: number; pointsHigh: number },
  o: OcrOptions,
  signal?: AbortSignal,
): Promise<Buffer> {
  const bin = findExecutable(o.pdftoppmPath);
  if (!bin) throw new ExtractionFailure('pdf_tools_missing');
  const pixels = ((size.pointsWide * o.dpi) / 72) * ((size.pointsHigh * o.dpi) / 72);
  if (!(pixels > 0) || pixels > o.maxPixels) throw new ExtractionFailure('page_too_large');
  // A PNG is at most a little over its raw pixels (3 bytes each): this bounds the output.
  const maxOut = Math.ceil(pixels) * 3 + 1024 * 1024;
  return runLimited(
    bin,
    ['-f', String(page), '-l', String(page), '-r', String(o.dpi), '-gray', '-png', '-'],
    pdf,
    limits(o, maxOut),
    'pdf_tools_missing',
    signal,
  );
}

/** Whether OCR can run at all (for the reason shown before any page is tried). */
export function ocrInstalled(o: OcrOptions): boolean {
  return findExecutable(o.tesseractPath) !== null;
}
