/**
 * Why a file's text could not be read (or, `text_cut`, not all of it kept). Only the code is
 * stored (sealed with the item); the text a person sees is looked up here, so no reason can
 * quote the file.
 */
export const EXTRACTION_REASONS = {
  ocr_missing: 'scanned, OCR not installed',
  pdf_tools_missing: 'scanned PDF, pdftoppm not installed',
  encrypted: 'encrypted PDF',
  damaged: 'damaged or unreadable file',
  unsupported: 'unsupported type',
  heic_unsupported: 'HEIC photo, no HEIC decoder installed',
  too_large: 'too large',
  image_too_large: 'image dimensions too large',
  page_too_large: 'a page is too large to scan',
  unzips_too_large: 'unpacks to too much data',
  too_deep: 'nested too deeply',
  timed_out: 'timed out',
  no_text: 'no text found',
  // With status "ok": the text was read up to the stored-text cap and the rest left out.
  text_cut: 'text cut at 2 million characters',
  // Scanned pages past OCR_MAX_PAGES were not OCR'd; shown with the counts when they are known.
  ocr_limit: 'pages past OCR_MAX_PAGES were not read',
  // With status "ok": the file was read, but the person's edit made meanwhile was kept instead.
  text_edited: "the text was edited while the file was read; Read again replaces it with the file's text",
} as const;

export type ExtractionCode = keyof typeof EXTRACTION_REASONS;
export type ExtractionStatus = 'ok' | 'pending' | 'none' | 'failed';

/** What the item payload seals about its file's text. */
export interface StoredExtraction {
  status: ExtractionStatus;
  code?: ExtractionCode;
  /** Pages (PDF) or slides the text has, `\f`-separated. */
  pages?: number;
  /** Of them, pages read by OCR. */
  ocrPages?: number;
  /** Scanned pages left unread for OCR_MAX_PAGES (`ocr_limit`). */
  skippedPages?: number;
  /**
   * While pending: a digest of the item's text when the read was asked for. A different text
   * when it ends means the person edited it meanwhile, and their text is kept.
   */
  basis?: string;
}

/** A refusal or failure with a fixed code; `status` says whether it is an error or just nothing to read. */
export class ExtractionFailure extends Error {
  override readonly name = 'ExtractionFailure';
  constructor(
    readonly code: ExtractionCode,
    readonly status: 'none' | 'failed' = 'failed',
  ) {
    super(EXTRACTION_REASONS[code]);
  }
}

const ocrLimitReason = (read: number, pages: number) => `only ${read} of ${pages} pages were read (OCR_MAX_PAGES)`;
const OCR_LIMIT_REASON = /^only (\d+) of (\d+) pages were read \(OCR_MAX_PAGES\)$/;

/** The item API's `extraction`: the code mapped to its text (with the page counts for `ocr_limit`). */
export function describeExtraction(e: StoredExtraction): { status: ExtractionStatus; reason?: string } {
  if (e.code === 'ocr_limit' && e.pages && e.skippedPages) return { status: e.status, reason: ocrLimitReason(e.pages - e.skippedPages, e.pages) };
  return e.code ? { status: e.status, reason: EXTRACTION_REASONS[e.code] } : { status: e.status };
}

/**
 * The stored form of an `extraction` as the API showed it (an export re-imported): the reason's
 * text back to its code. A read still pending is not carried over (nothing would finish it).
 */
export function extractionFromApi(e: { status: ExtractionStatus; reason?: string } | undefined): StoredExtraction | undefined {
  if (!e || e.status === 'pending') return undefined;
  const limit = OCR_LIMIT_REASON.exec(e.reason ?? '');
  if (limit) return { status: e.status, code: 'ocr_limit', pages: Number(limit[2]), skippedPages: Number(limit[2]) - Number(limit[1]) };
  const code = (Object.keys(EXTRACTION_REASONS) as ExtractionCode[]).find((c) => EXTRACTION_REASONS[c] === e.reason);
  return code ? { status: e.status, code } : { status: e.status };
}
