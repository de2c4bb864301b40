import { spawnSync } from 'node:child_process';
import { crc32, deflateSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/**
 * Test files built at test time (nothing large is committed): real PNGs rendered by poppler from
 * a pdf-lib PDF, image-only PDFs wrapping them, and Office, e-mail and HTML files.
 */

/** A PDF with a real text layer, one page per entry, each page's lines drawn in Helvetica. */
export async function textPdf(pages: string[][], size: [number, number] = [612, 300]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage(size);
    lines.forEach((line, i) => page.drawText(line, { x: 30, y: size[1] - 50 - i * 34, size: 24, font }));
  }
  return Buffer.from(await doc.save());
}

/** The text rendered to a PNG, as a phone photo of a printed page would be (poppler, 150 dpi). */
export async function textPng(lines: string[]): Promise<Buffer> {
  const pdf = await textPdf([lines]);
  const r = spawnSync('pdftoppm', ['-f', '1', '-l', '1', '-r', '150', '-png', '-'], { input: pdf, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error('pdftoppm failed');
  return r.stdout;
}

/** A scanned document: image-only pages, no text layer at all. */
export async function scannedPdf(pages: string[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (const lines of pages) {
    const png = await doc.embedPng(await textPng(lines));
    const page = doc.addPage([612, 300]);
    page.drawImage(png, { x: 0, y: 0, width: 612, height: 300 });
  }
  return Buffer.from(await doc.save());
}

/** An image-only page so large that rasterising it would take gigabytes. */
export async function hugePagePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const png = await doc.embedPng(await textPng(['tiny']));
  const page = doc.addPage([14_400, 14_400]);
  page.drawImage(png, { x: 0, y: 0, width: 100, height: 50 });
  return Buffer.from(await doc.save());
}

/** A valid PNG header claiming `width` x `height` (the pixels never exist). */
export function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const CONTENT_TYPES_DOCX = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;
const RELS_DOCX = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A minimal Word document; `padding` adds an entry of that many zero bytes (a zip bomb, compressed). */
export async function docx(paragraphs: string[], padding = 0): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', CONTENT_TYPES_DOCX);
  zip.file('_rels/.rels', RELS_DOCX);
  const body = paragraphs.map((p) => `<w:p><w:r><w:t>${esc(p)}</w:t></w:r></w:p>`).join('');
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  if (padding) zip.file('word/media/padding.bin', Buffer.alloc(padding));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

/** A minimal slide deck, one slide per entry. */
export async function pptx(slides: string[]): Promise<Buffer> {
  const zip = new JSZip();
  slides.forEach((text, i) =>
    zip.file(
      `ppt/slides/slide${i + 1}.xml`,
      `<?xml version="1.0"?><p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>${esc(text)}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`,
    ),
  );
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** An OpenDocument spreadsheet with one sheet. */
export async function ods(sheet: string, rows: string[][]): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('mimetype', 'application/vnd.oasis.opendocument.spreadsheet');
  const body = rows
    .map((r) => `<table:table-row>${r.map((c) => `<table:table-cell><text:p>${esc(c)}</text:p></table:table-cell>`).join('')}</table:table-row>`)
    .join('');
  zip.file(
    'content.xml',
    `<?xml version="1.0"?><office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet><table:table table:name="${esc(sheet)}">${body}</table:table></office:spreadsheet></office:body></office:document-content>`,
  );
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** An Excel workbook written by exceljs, one sheet per entry. */
export async function xlsx(sheets: Record<string, Array<Array<string | number>>>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) wb.addWorksheet(name).addRows(rows);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** An RFC 5322 message with a text body and one attachment. */
export function eml(o: {
  from: string;
  to: string;
  subject: string;
  date: string;
  body: string;
  attachment?: { name: string; type: string; data: Buffer };
}): Buffer {
  const boundary = 'cv-boundary-42';
  const head = [`From: ${o.from}`, `To: ${o.to}`, `Subject: ${o.subject}`, `Date: ${o.date}`, 'MIME-Version: 1.0'];
  if (!o.attachment) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', o.body, ''].join('\r\n'));
  const b64 = o.attachment.data.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      ...head,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      o.body,
      `--${boundary}`,
      `Content-Type: ${o.attachment.type}; name="${o.attachment.name}"`,
      `Content-Disposition: attachment; filename="${o.attachment.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}
