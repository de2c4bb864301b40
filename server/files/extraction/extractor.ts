import {
  decodeText,
  extractPdfPages,
  joinLineBreakHyphens,
  joinPages,
  looksBinary,
  MAX_TEXT_CHARS,
  mostlyNotText,
  storedText,
  type PdfPage,
} from '../extract.js';
import { readDocument, type DocumentLimits, type DocumentText } from './documents.js';
import type { FileKind } from './file-kind.js';
import { checkImage, ocrImage, ocrInstalled, rasterizePdfPage, type OcrOptions } from './ocr.js';
import { imageCoverage, PICTURE_PAGE } from './pdf-images.js';
import { ExtractionFailure, type ExtractionCode, type StoredExtraction } from './reasons.js';

export interface ExtractorOptions {
  ocr: OcrOptions;
  maxOcrPages: number;
  pdfTimeoutMs: number;
  documents: DocumentLimits;
}

export interface ExtractionResult {
  text: string;
  extraction: StoredExtraction;
  attachments?: DocumentText['attachments'];
}

/**
 * Told before the first page OCR reads and after each one; `total` is the number of pages OCR
 * will read (at most OCR_MAX_PAGES). A returned promise is awaited before the next page, so the
 * caller can abort the signal there (the item was deleted meanwhile).
 */
export type OnPages = (done: number, total: number) => unknown;

/**
 * The outcome for text that was read: "ok", or "none" when the file holds no words; "ok" says
 * `text_cut` when the text reached the cap, so a reader knows the end of the file is not in it.
 */
const outcome = (text: string, extra: Partial<StoredExtraction> = {}, cut = text.length >= MAX_TEXT_CHARS): StoredExtraction => {
  if (!text.replace(/\f/g, '').trim()) return { status: 'none', code: 'no_text', ...extra };
  return cut ? { status: 'ok', code: 'text_cut', ...extra } : { status: 'ok', ...extra };
};

/** Whether a PDF's text stops short of its end: pages skipped for the cap, or the join cut. */
const pdfCut = (pages: PdfPage[], text: string) => pages.some((p) => p.pastCap) || text.length >= MAX_TEXT_CHARS;

/** Document kinds whose files are text (markup or mail), unlike the zipped Office and OpenDocument ones. */
const TEXT_SHAPED: ReadonlySet<FileKind> = new Set(['html', 'eml', 'mbox']);

/** A page with no text layer to read, so OCR is its only way in (not one skipped for the cap). */
const scanned = (p: PdfPage) => !p.text && !p.pastCap;

/**
 * Letters and digits below which a page's text layer is too thin for a page of text: a copier's
 * or fax machine's stamp ("Scanned by Xerox WorkCentre 7845 - page 1"), a page number, a stray
 * "." are far below it, a page of text far above. Such a page is OCR'd when pictures cover
 * {@link PICTURE_PAGE} of it; a title or signature page without one is not.
 */
const THIN_CHARS = 80;

function thin(p: PdfPage): boolean {
  if (!p.text || p.pastCap || p.text.length > THIN_CHARS * 20) return false;
  let n = 0;
  for (const _ of p.text.matchAll(/[\p{L}\p{N}]/gu)) if (++n >= THIN_CHARS) return false;
  return true;
}

/** Whitespace-folded, lower-cased: for asking whether OCR read the words of a text layer. */
const folded = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * A thin text layer and what OCR read on the same page: OCR reads what is printed, the stamp
 * included, so it replaces the layer; a layer OCR did not read (invisible text, a stamp too
 * small) is kept after it, and kept alone when OCR read nothing.
 */
function merged(layer: string, ocr: string): string {
  if (!ocr.trim()) return layer;
  return !layer.trim() || folded(ocr).includes(folded(layer)) ? ocr : `${ocr}\n${layer}`;
}

/**
 * Turns a stored file's bytes into text by its kind: the PDF text layer (and OCR for pages that
 * have none), OCR for images, a worker for Office, OpenDocument, e-mail and HTML. Refusals and
 * failures are {@link ExtractionFailure}s with fixed codes.
 */
export class Extractor {
  constructor(private readonly opts: ExtractorOptions) {}

  async extract(kind: FileKind, bytes: Buffer, onPages: OnPages = () => {}, signal?: AbortSignal): Promise<ExtractionResult> {
    const r = await this.#read(kind, bytes, onPages, signal);
    // Each reader already passes its text through storedText; this makes sure of it for all.
    return { ...r, text: storedText(r.text) };
  }

  async #read(kind: FileKind, bytes: Buffer, onPages: OnPages, signal?: AbortSignal): Promise<ExtractionResult> {
    switch (kind) {
      case 'text': {
        // A binary file sent as text (a photo renamed `.txt`) has no text to read.
        if (looksBinary(bytes)) throw new ExtractionFailure('unsupported', 'none');
        const text = decodeText(bytes);
        return { text, extraction: outcome(text) };
      }
      case 'pdf':
        return this.#pdf(bytes, onPages, signal);
      case 'image': {
        const { orientation } = checkImage(bytes, this.opts.ocr.maxPixels);
        onPages(0, 1);
        const text = storedText(joinLineBreakHyphens(await ocrImage(bytes, this.opts.ocr, signal, orientation)));
        onPages(1, 1);
        return { text, extraction: outcome(text, { ocrPages: 1 }) };
      }
      default: {
        // HTML and mail are text too: a photo or archive renamed `.html` or `.eml` is not read.
        if (TEXT_SHAPED.has(kind) && mostlyNotText(bytes)) throw new ExtractionFailure('unsupported', 'none');
        const r = await readDocument(kind, bytes, this.opts.documents);
        const text = storedText(r.text);
        return { text, extraction: outcome(text, r.pages ? { pages: r.pages } : {}), attachments: r.attachments };
      }
    }
  }

  /**
   * The text layer only, fast enough for the upload request; `needsOcr` when pages have none,
   * `cut` when the text reached the cap (pages past it are not read, and need no OCR either).
   */
  async pdfTextLayer(bytes: Buffer): Promise<{ text: string; pages: number; needsOcr: boolean; cut: boolean }> {
    const pages = await extractPdfPages(bytes, this.opts.pdfTimeoutMs);
    const text = joinPages(pages.map((p) => p.text));
    const needsOcr = pages.some(scanned) || (await this.#pictures(bytes, pages, true)).size > 0;
    return { text, pages: pages.length, needsOcr, cut: pdfCut(pages, text) };
  }

  /**
   * The pages (0-based) with a thin text layer that are pictures of a page, so OCR reads them
   * too; `firstOnly` stops at the first. Pages whose pictures cannot be measured in time keep
   * their text layer, as before such pages were looked at.
   */
  async #pictures(bytes: Buffer, pages: PdfPage[], firstOnly = false): Promise<Set<number>> {
    const candidates = pages.flatMap((p, i) => (thin(p) ? [i] : []));
    const covered = await imageCoverage(
      bytes,
      candidates.map((i) => i + 1),
      this.opts.pdfTimeoutMs,
      firstOnly,
    );
    return new Set(candidates.filter((_, k) => (covered?.[k] ?? 0) >= PICTURE_PAGE));
  }

  async #pdf(bytes: Buffer, onPages: OnPages, signal?: AbortSignal): Promise<ExtractionResult> {
    const pages = await extractPdfPages(bytes, this.opts.pdfTimeoutMs);
    const pictures = await this.#pictures(bytes, pages);
    const scans = pages.flatMap((p, i) => (scanned(p) || pictures.has(i) ? [i] : []));
    const blank = scans.slice(0, this.opts.maxOcrPages);
    const texts = pages.map((p) => p.text);
    if (!blank.length) {
      const text = joinPages(texts);
      return { text, extraction: outcome(text, { pages: pages.length }, pdfCut(pages, text)) };
    }
    if (!ocrInstalled(this.opts.ocr)) {
      // What the text layer had is kept; the scanned pages wait for OCR and a "read again".
      return { text: joinPages(texts), extraction: { status: 'failed', code: 'ocr_missing', pages: pages.length } };
    }
    let failed: ExtractionCode | undefined;
    let done = 0;
    await onPages(0, blank.length);
    for (const i of blank) {
      if (signal?.aborted) throw new ExtractionFailure('timed_out');
      try {
        const png = await rasterizePdfPage(bytes, i + 1, { pointsWide: pages[i]!.width, pointsHigh: pages[i]!.height }, this.opts.ocr, signal);
        texts[i] = merged(pages[i]!.text, await ocrImage(png, this.opts.ocr, signal));
      } catch (err) {
        // Stopped (a shutdown, the item deleted): this page was not read, so it is not counted.
        if (!(err instanceof ExtractionFailure) || signal?.aborted) throw err;
        // One bad page does not lose the others: their text is kept and the reason shown.
        failed ??= err.code;
        if (err.code === 'ocr_missing' || err.code === 'pdf_tools_missing') break;
      }
      await onPages(++done, blank.length);
    }
    const text = joinPages(texts);
    const skippedPages = scans.length - blank.length;
    const meta = { pages: pages.length, ocrPages: done, ...(skippedPages ? { skippedPages } : {}) };
    if (failed) return { text, extraction: { status: 'failed', code: failed, ...meta } };
    const read = outcome(text, meta, pdfCut(pages, text));
    // Pages left unread say so even when those read held nothing: "no text found" would be wrong.
    return { text, extraction: skippedPages ? { ...read, code: 'ocr_limit' } : read };
  }
}
