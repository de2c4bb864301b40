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
 * Width, height, format and EXIF orientation from the image's header, read before any decoder
 * sees the pixels: a 60000 x 60000 PNG of a few KB would otherwise ask Tesseract for gigabytes.
 */
export function checkImage(bytes: Uint8Array, maxPixels: number): { width: number; height: number; type: string; orientation?: number } {
  let dims: { width?: number; height?: number; type?: string; orientation?: number };
  try {
    dims = imageSize(bytes);
  } catch {
    throw new ExtractionFailure('damaged');
  }
  const { width = 0, height = 0, type = '', orientation } = dims;
  if (type === 'heif') throw new ExtractionFailure('heic_unsupported');
  if (!OCR_IMAGE_TYPES.has(type)) throw new ExtractionFailure('unsupported', 'none');
  if (!width || !height) throw new ExtractionFailure('damaged');
  if (width * height > maxPixels) throw new ExtractionFailure('image_too_large');
  return { width, height, type, ...(orientation !== undefined ? { orientation } : {}) };
}

/**
 * Below this mean word confidence (0-100, weighted by word length) a page read as it lies is
 * taken for one that may be turned, and read again with orientation detection. Upright print
 * reads at 90 and more; the same page upside down or on its side at 15-25.
 */
const TURNED_CONFIDENCE = 60;

interface Read {
  text: string;
  /** Mean word confidence, 0-100; -1 when no word was read. */
  confidence: number;
}

/**
 * Tesseract's TSV output as its plain-text output lays the same words out: words of a line
 * joined by spaces, a line break after each line and a blank line after each paragraph; and the
 * words' mean confidence.
 */
export function fromTsv(tsv: string): Read {
  let text = '';
  let line = '';
  let key = '';
  let para = '';
  let weighted = 0;
  let chars = 0;
  const endLine = () => {
    if (line) text += `${line}\n`;
    line = '';
  };
  for (const row of tsv.split('\n')) {
    const f = row.split('\t');
    // level page block paragraph line word left top width height conf text
    if (f.length < 12 || f[0] !== '5') continue;
    const word = f.slice(11).join('\t').trim();
    const conf = Number(f[10]);
    if (!word || !(conf >= 0)) continue;
    const thisPara = `${f[1]}.${f[2]}.${f[3]}`;
    const thisKey = `${thisPara}.${f[4]}`;
    if (thisKey !== key) {
      endLine();
      if (para && thisPara !== para) text += '\n';
      key = thisKey;
      para = thisPara;
    }
    line += line ? ` ${word}` : word;
    weighted += conf * word.length;
    chars += word.length;
  }
  endLine();
  return { text: text.trim(), confidence: chars ? weighted / chars : -1 };
}

async function recognise(bin: string, bytes: Uint8Array, psm: '1' | '3', o: OcrOptions, signal?: AbortSignal): Promise<Read> {
  const out = await runLimited(bin, ['stdin', 'stdout', '-l', o.langs, '--psm', psm, 'tsv'], bytes, limits(o, 64 * 1024 * 1024), 'ocr_missing', signal);
  return fromTsv(out.toString('utf8'));
}

/**
 * Recognises the text of one image: bytes in on stdin, text out on stdout. A page upside down or
 * on its side reads as confident-looking garbage, so a read with low confidence is done again
 * with Tesseract's orientation detection (`--psm 1`, the osd traineddata), and the more
 * confident read wins. Detection is not run on every page: loading its model costs about as much
 * as reading an upright page. A JPEG whose EXIF orientation says it is stored turned (phone
 * portraits) goes to detection at once: Leptonica does not apply EXIF orientation.
 */
export async function ocrImage(bytes: Uint8Array, o: OcrOptions, signal?: AbortSignal, exifOrientation?: number): Promise<string> {
  const bin = findExecutable(o.tesseractPath);
  if (!bin) throw new ExtractionFailure('ocr_missing');
  const stored = exifOrientation !== undefined && exifOrientation > 1;
  let read = await recognise(bin, bytes, stored ? '1' : '3', o, signal);
  if (!stored && read.confidence >= 0 && read.confidence < TURNED_CONFIDENCE) {
    const turned = await recognise(bin, bytes, '1', o, signal);
    if (turned.confidence > read.confidence) read = turned;
  }
  return read.text;
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
