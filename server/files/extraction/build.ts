import type { Config } from '../../config.js';
import { Extractor } from './extractor.js';

/** The extractor with the limits from configuration. */
export function buildExtractor(config: Config): Extractor {
  return new Extractor({
    ocr: {
      tesseractPath: config.OCR_TESSERACT_PATH,
      pdftoppmPath: config.OCR_PDFTOPPM_PATH,
      langs: config.OCR_LANGS,
      dpi: config.OCR_DPI,
      maxPixels: config.OCR_MAX_PIXELS,
      pageTimeoutMs: config.OCR_PAGE_TIMEOUT_MS,
      memoryMb: config.OCR_MEMORY_MB,
    },
    maxOcrPages: config.OCR_MAX_PAGES,
    pdfTimeoutMs: config.PDF_EXTRACT_TIMEOUT_MS,
    documents: {
      timeoutMs: config.EXTRACT_TIMEOUT_MS,
      maxUnzippedBytes: config.EXTRACT_MAX_UNZIPPED_MB * 1024 * 1024,
      maxDepth: config.EXTRACT_MAX_HTML_DEPTH,
      maxAttachments: config.EXTRACT_MAX_ATTACHMENTS,
    },
  });
}
