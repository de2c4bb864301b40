import { spawnSync } from 'node:child_process';
import { degrees, PDFDocument, StandardFonts } from 'pdf-lib';

/**
 * Test pictures of a printed letter turned as scanners and phones leave them, built at test time
 * (pdf-lib draws the text turned, poppler renders it): nothing large is committed.
 */

export const LETTER = [
  'Radiology Report',
  'Patient: Jordan Example. Date: 14 March 2025.',
  'Findings: small Skorvantic cyst noted in the left',
  'lower lobe. No pleural effusion was seen today.',
  'Impression: follow-up imaging recommended in',
  'six months. Signed, Dr. Amelia Hartwell.',
];

/** How far the page's content is turned counter-clockwise (90 is a portrait page lying on its right side). */
export type Turn = 0 | 90 | 180 | 270;

async function turnedPdf(lines: string[], turn: Turn): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const [w, h] = turn % 180 === 0 ? [612, 792] : [792, 612];
  const page = doc.addPage([w, h]);
  lines.forEach((line, i) => {
    const at = { 0: { x: 40, y: h - 60 - i * 30 }, 180: { x: w - 40, y: 60 + i * 30 }, 90: { x: 60 + i * 30, y: 40 }, 270: { x: w - 60 - i * 30, y: h - 40 } }[
      turn
    ];
    page.drawText(line, { ...at, size: 20, font, rotate: degrees(turn) });
  });
  return Buffer.from(await doc.save());
}

/** The letter as a greyscale PNG (or JPEG), turned by `turn`, at 150 dpi. */
export async function turnedImage(lines: string[], turn: Turn, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const r = spawnSync('pdftoppm', ['-r', '150', '-gray', `-${format}`, '-'], { input: await turnedPdf(lines, turn), maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error('pdftoppm failed');
  return r.stdout;
}

/** A JPEG with an EXIF APP1 segment saying `orientation` (6: display turned 90° clockwise, as phones store portraits). */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const length = Buffer.from([(payload.length + 2) >> 8, (payload.length + 2) & 255]);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, payload, jpeg.subarray(2)]);
}

/** Image-only PDF pages wrapping `pngs`, each filling its page; `stamp` adds a small text line at the bottom, as copiers do. */
export async function imagePdf(pngs: Buffer[], stamp?: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const png of pngs) {
    const img = await doc.embedPng(png);
    const [w, h] = img.width > img.height ? [792, 612] : [612, 792];
    const page = doc.addPage([w, h]);
    page.drawImage(img, { x: 0, y: 14, width: w, height: h - 14 });
    if (stamp !== undefined) page.drawText(stamp, { x: 20, y: 4, size: 7, font });
  }
  return Buffer.from(await doc.save());
}
