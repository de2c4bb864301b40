import { beginMarkedContent, endMarkedContent, PDFDict, PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import { MAX_TEXT_CHARS } from '../../server/files/extract.js';

/**
 * Text PDFs built at test time with pdf-lib for the text-layer checks: words whose font changes
 * mid-word, right-to-left text in visual order, glyphs that map to U+0000, and more text than is stored.
 */

/**
 * One line made of pieces drawn one after another, each in its font: a word whose first part is
 * bold ("<b>Cholest</b>erol") is two pieces with no gap, as a browser prints it. `gap` (in
 * points) is left before a piece: a space's width between words, or a table column's.
 */
export async function piecesPdf(lines: Array<Array<{ text: string; bold?: boolean; gap?: number }>>): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const fonts = { plain: await doc.embedFont(StandardFonts.Helvetica), bold: await doc.embedFont(StandardFonts.HelveticaBold) };
  const page = doc.addPage([612, 300]);
  lines.forEach((pieces, row) => {
    let x = 30;
    for (const { text, bold, gap = 0 } of pieces) {
      const font = bold ? fonts.bold : fonts.plain;
      x += gap;
      page.drawText(text, { x, y: 250 - row * 30, size: 18, font });
      x += font.widthOfTextAtSize(text, 18);
    }
  });
  return Buffer.from(await doc.save());
}

/** The saved PDF with every font's ToUnicode CMap saying which character each one-byte code is. */
async function withToUnicode(pdf: Uint8Array, map: Record<string, string>): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf);
  const hex = (s: string, width: number) => [...s].map((c) => c.codePointAt(0)!.toString(16).padStart(width, '0')).join('');
  const entries = Object.entries(map).map(([code, char]) => `<${hex(code, 2)}> <${hex(char, 4)}>`);
  const cmap =
    '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def ' +
    '/CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange ' +
    `${entries.length} beginbfchar ${entries.join(' ')} endbfchar endcmap CMapName currentdict /CMap defineresource pop end end`;
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (obj instanceof PDFDict && obj.get(PDFName.of('Type')) === PDFName.of('Font'))
      obj.set(PDFName.of('ToUnicode'), doc.context.register(doc.context.stream(cmap)));
  }
  return Buffer.from(await doc.save());
}

/** A text PDF whose font maps the glyph for `Q` to U+0000, as a PDF printed with a missing font can. */
export async function nulPdf(line: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 300]).drawText(line, { x: 30, y: 200, size: 24, font });
  return withToUnicode(await doc.save(), { Q: '\u0000' });
}

/**
 * Right-to-left text as a browser prints shaped runs: one glyph at a time, left to right on the
 * page (so in visual order, the reverse of reading order), each in marked content of its own.
 * The letters are Helvetica glyphs whose ToUnicode says they are the Hebrew ones.
 */
export async function visualRtlPdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 300]);
  const map: Record<string, string> = {};
  const codes = new Map<string, string>();
  let x = 30;
  for (const char of [...text].reverse()) {
    if (char === ' ') {
      x += font.widthOfTextAtSize(' ', 24);
      continue;
    }
    if (!codes.has(char)) codes.set(char, String.fromCharCode(0x41 + codes.size));
    const code = codes.get(char)!;
    map[code] = char;
    page.pushOperators(beginMarkedContent('Span'));
    page.drawText(code, { x, y: 200, size: 24, font });
    page.pushOperators(endMarkedContent());
    x += font.widthOfTextAtSize(code, 24);
  }
  return withToUnicode(await doc.save(), map);
}

/** A born-digital PDF with more text than is stored: `MAX_TEXT_CHARS` of words, then a last page with `last` on it. */
export async function longPdf(last: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const line = 'blood pressure glucose normal review '.repeat(12);
  const lines = 150;
  const pages = Math.ceil(MAX_TEXT_CHARS / (line.length * lines)) + 1;
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([1600, 1000]);
    for (let l = 0; l < lines; l++) page.drawText(line, { x: 10, y: 980 - l * 6.5, size: 5, font });
  }
  doc.addPage([612, 300]).drawText(last, { x: 30, y: 200, size: 24, font });
  return Buffer.from(await doc.save());
}
