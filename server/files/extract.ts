import { ExtractionFailure } from './extraction/reasons.js';
import { runWorkerOnce } from './run-worker.js';
import { textHead } from '../text-head.js';

/** Stored text per document is capped: beyond this, search and chat gain little. */
export const MAX_TEXT_CHARS = 2_000_000;

/** Form feed: page N of a document's text is its N-th `\f`-separated segment (PDF and OCR alike). */
export const PAGE_BREAK = '\f';

export interface PdfPage {
  text: string;
  /**
   * Not read because the document's text had reached {@link MAX_TEXT_CHARS} before this page:
   * such a page has text of its own, so it must never be taken for a scan and OCR'd.
   */
  pastCap?: true;
  /** Size in PDF points, to refuse rasterising an absurd page. */
  width: number;
  height: number;
}

/**
 * Extracts a PDF's text layer page by page off the main thread with a hard time limit: the
 * worker is terminated when it runs over, so a hostile PDF cannot hang the server.
 */
export async function extractPdfPages(bytes: Buffer, timeoutMs: number): Promise<PdfPage[]> {
  const r = await runWorkerOnce<{ ok: boolean; pages?: PdfPage[]; name?: string }>(
    new URL('./pdf-worker.mjs', import.meta.url),
    bytes,
    { maxChars: MAX_TEXT_CHARS },
    timeoutMs,
  );
  if ('timedOut' in r) throw new ExtractionFailure('timed_out');
  if ('error' in r) throw new ExtractionFailure('damaged');
  if (r.message.ok) return r.message.pages ?? [];
  throw new ExtractionFailure(r.message.name === 'PasswordException' ? 'encrypted' : 'damaged');
}

/**
 * The one gate every extracted text passes (text files, PDF text layers, OCR, Office, e-mail and
 * HTML): it drops what an item's text may not hold, so the user can edit what the server read
 * (PATCH refuses U+0000), and caps it at {@link MAX_TEXT_CHARS} without splitting a surrogate pair.
 */
export function storedText(text: string): string {
  // eslint-disable-next-line no-control-regex -- NULs are what it removes
  const clean = text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
  return textHead(clean, MAX_TEXT_CHARS);
}

/**
 * Rejoins words hyphenated across a line break ("uncompli-\ncated"), as printed documents and
 * their OCR split them, so the word is indexed as a reader types it. Only where the next line
 * starts in lower case: "Non-\nHodgkin" and "COVID-\n19" are compounds and keep their hyphen.
 * A page break (`\f`) is never crossed.
 */
export function joinLineBreakHyphens(text: string): string {
  return text.replace(/(?<=\p{L})[-\u00ad\u2010][ \t]*\r?\n[ \t]*(?=\p{Ll})/gu, '');
}

/** Joins page texts with the page break, through {@link joinLineBreakHyphens} and {@link storedText}. */
export function joinPages(pages: string[]): string {
  return storedText(pages.map((p) => joinLineBreakHyphens(p.replace(/\f/g, ' '))).join(PAGE_BREAK));
}

const utf8 = () => new TextDecoder('utf-8', { fatal: true });

/** The text's encoding from a UTF-16 byte order mark; undefined when there is none. */
const utf16ByBom = (bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined =>
  bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;

/**
 * Decodes a text file: UTF-16 when it starts with a UTF-16 byte order mark, else UTF-8, else
 * (bytes that are not valid UTF-8) Windows-1252, which is what Windows editors and Excel's CSV
 * export write and maps every byte to a character. A BOM is dropped. `stream: true` leaves a
 * character cut off at the end (the upload keeps only the first bytes of a large file) out
 * instead of taking the whole file for not being UTF-8.
 */
export function decodeText(bytes: Buffer): string {
  return storedText(decodeRaw(bytes));
}

function decodeRaw(bytes: Uint8Array): string {
  const utf16 = utf16ByBom(bytes);
  if (utf16) return new TextDecoder(utf16).decode(bytes, { stream: true });
  try {
    return utf8().decode(bytes, { stream: true });
  } catch {
    return new TextDecoder('windows-1252').decode(bytes, { stream: true });
  }
}

/** How much of a file {@link looksBinary} reads: its start says what it is. */
const SNIFF_BYTES = 8192;

/**
 * Characters no text file holds in any number: C0 controls other than tab, line and page breaks,
 * backspace (man pages' overstrike) and escape (terminal colours in logs); DEL; C1 controls
 * (what Windows-1252 leaves its five unassigned bytes as); and U+FFFD (UTF-16 that is not).
 */
// eslint-disable-next-line no-control-regex -- control characters are what it counts
const NOT_TEXT = /[\u0000-\u0007\u000e-\u001a\u001c-\u001f\u007f-\u009f\ufffd]/g;

/** Share of {@link NOT_TEXT} characters above which the start of a file is taken for binary. */
const MAX_NOT_TEXT_SHARE = 0.05;

/**
 * Whether a file sent as text is binary (an image or an archive renamed `.txt`), judged by its
 * first {@link SNIFF_BYTES} as {@link decodeText} would read them: a NUL byte outside UTF-16, or
 * more than {@link MAX_NOT_TEXT_SHARE} of characters no text holds. Legacy 8-bit text (read as
 * Windows-1252) has no control bytes and passes; random bytes have about one in ten.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (!utf16ByBom(head) && head.includes(0)) return true;
  return mostlyNotText(head);
}

/**
 * The share rule of {@link looksBinary} alone, for markup and mail: a stray NUL in a saved page
 * or a message is dropped from its text, but a photo or archive renamed `.html` or `.eml` is
 * mostly characters no text holds.
 */
export function mostlyNotText(bytes: Uint8Array): boolean {
  const text = decodeRaw(bytes.subarray(0, SNIFF_BYTES));
  return (text.match(NOT_TEXT)?.length ?? 0) > text.length * MAX_NOT_TEXT_SHARE;
}
