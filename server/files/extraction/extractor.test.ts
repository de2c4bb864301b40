import { readFile } from 'node:fs/promises';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { docx, eml, hugePagePdf, ods, pngHeader, pptx, scannedPdf, textPdf, textPng, xlsx } from '../../../test-support/server/extraction-fixtures.js';
import { mulberry32 } from '../../../test-support/random.js';
import { longPdf, nulPdf, piecesPdf, visualRtlPdf } from '../../../test-support/server/pdf-text-fixtures.js';
import { MAX_TEXT_CHARS } from '../extract.js';
import { Extractor, type ExtractorOptions } from './extractor.js';
import { imagePdf, LETTER, turnedImage, withExifOrientation } from '../../../test-support/server/orientation-fixtures.js';
import { describeExtraction, ExtractionFailure, extractionFromApi } from './reasons.js';

const options = (over: Partial<ExtractorOptions['ocr']> = {}, docs: Partial<ExtractorOptions['documents']> = {}): ExtractorOptions => ({
  ocr: { tesseractPath: 'tesseract', pdftoppmPath: 'pdftoppm', langs: 'eng', dpi: 200, maxPixels: 40_000_000, pageTimeoutMs: 60_000, memoryMb: 1024, ...over },
  maxOcrPages: 50,
  pdfTimeoutMs: 20_000,
  documents: { timeoutMs: 30_000, maxUnzippedBytes: 8 * 1024 * 1024, maxDepth: 256, maxAttachments: 10, ...docs },
});

const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExtractionFailure);
  return (err as ExtractionFailure).code;
};

describe('Extractor', () => {
  const sut = new Extractor(options());

  it('separates PDF text-layer pages with form feeds', async () => {
    const r = await sut.extract('pdf', await textPdf([['First page words'], ['Second page words'], ['Third page']]));
    expect(r.text.split('\f')).toEqual(['First page words', 'Second page words', 'Third page']);
    expect(r.extraction).toEqual({ status: 'ok', pages: 3 });
  });

  it('joins PDF text as pdf.js lays it out: a word whose font changes mid-word stays one word, words and lines stay apart', async () => {
    const space = 18 * 0.278; // Helvetica's space, at 18 pt
    const pdf = await piecesPdf([
      [
        { text: 'Result:' },
        { text: 'Cholest', bold: true, gap: space },
        { text: 'erol elevated; Thyro' },
        { text: 'xine', bold: true },
        { text: 'level', gap: space },
      ],
      [{ text: 'Hypo', bold: true }, { text: 'thyroidism' }, { text: 'Atorvastatin 20 mg', gap: 120 }],
    ]);
    const r = await sut.extract('pdf', pdf);
    expect(r.text).toBe('Result: Cholesterol elevated; Thyroxine level\nHypothyroidism Atorvastatin 20 mg');
  });

  it('puts right-to-left text split over items back in reading order (shaped runs a glyph at a time)', async () => {
    expect((await sut.extract('pdf', await visualRtlPdf('לחץ דם גבוה'))).text).toBe('לחץ דם גבוה');
  });

  it('drops U+0000 from a PDF text layer, so the item can be edited', async () => {
    const r = await sut.extract('pdf', await nulPdf('Zyxquorbelt QQQ end'));
    expect(r.text).toBe('Zyxquorbelt  end');
    expect((await sut.pdfTextLayer(await nulPdf('Zyxquorbelt QQQ end'))).text).toBe('Zyxquorbelt  end');
  });

  it('drops U+0000 from Word, HTML and e-mail text too', async () => {
    expect((await sut.extract('docx', await docx(['Fer\u0000ritin']))).text).toBe('Ferritin');
    expect((await sut.extract('html', Buffer.from('<html><body><p>Fer\u0000ritin</p></body></html>'))).text).toBe('Ferritin');
    const mail = eml({ from: 'a@example.com', to: 'me@example.com', subject: 'S', date: 'Tue, 3 Mar 2026 10:00:00 +0000', body: 'Fer\u0000ritin' });
    expect((await sut.extract('eml', mail)).text).toMatch(/\n\nFerritin$/);
  });

  it('does not read a photo or an archive renamed .html, .eml or .mbox', async () => {
    const next = mulberry32(7);
    // A PNG's compressed pixels are bytes with no pattern.
    const png = Buffer.concat([pngHeader(640, 480), Buffer.from(Array.from({ length: 4000 }, () => Math.floor(next() * 256)))]);
    for (const kind of ['html', 'eml', 'mbox'] as const) expect(await failure(sut.extract(kind, png))).toBe('unsupported');
    expect(await failure(sut.extract('html', await docx(['Ferritin'])))).toBe('unsupported');
  });

  it('does not take the pages past the text cap for scans: no OCR, and the extraction says the text was cut', async () => {
    const pdf = await longPdf('Lastpagecanary');
    // Without tesseract a page taken for a scan would be "scanned, OCR not installed".
    const noOcr = new Extractor({ ...options({ tesseractPath: '/nonexistent/tesseract' }), pdfTimeoutMs: 120_000 });
    const layer = await noOcr.pdfTextLayer(pdf);
    expect(layer).toMatchObject({ needsOcr: false, cut: true });
    expect(layer.text).toHaveLength(MAX_TEXT_CHARS);
    const progress: number[] = [];
    const r = await noOcr.extract('pdf', pdf, (done) => progress.push(done));
    expect(progress).toEqual([]);
    expect(r.extraction).toEqual({ status: 'ok', code: 'text_cut', pages: layer.pages });
    expect(r.text).toHaveLength(MAX_TEXT_CHARS);
    expect(r.text).not.toContain('Lastpagecanary');
  }, 120_000);

  it('OCRs the pages of a scanned PDF, one page at a time with progress, keeping page order', async () => {
    const progress: Array<[number, number]> = [];
    const r = await sut.extract('pdf', await scannedPdf([['Discharge letter'], ['Atrial fibrillation']]), (d, t) => progress.push([d, t]));
    const pages = r.text.split('\f');
    expect(pages).toHaveLength(2);
    expect(pages[0]).toMatch(/Discharge letter/i);
    expect(pages[1]).toMatch(/Atrial fibrillation/i);
    expect(progress).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(r.extraction).toMatchObject({ status: 'ok', pages: 2, ocrPages: 2 });
  });

  it('OCRs a photo (PNG) of a lab report, joining words hyphenated across lines', async () => {
    const r = await sut.extract('image', await textPng(['Haemoglobin 13.2 g/dL, an uncompli-', 'cated anaemia, Non-', 'Hodgkin excluded']));
    expect(r.text).toMatch(/Haemoglobin 13\.2/);
    expect(r.text).toMatch(/uncomplicated anaemia, Non-\nHodgkin/);
    expect(r.extraction.status).toBe('ok');
  });

  it('joins words hyphenated across lines of a PDF text layer, within a page only', async () => {
    const pdf = await textPdf([['an uncompli-', 'cated appendectomy, Non-', 'Hodgkin excluded, pneumo-'], ['thorax not seen']]);
    const expected = 'an uncomplicated appendectomy, Non-\nHodgkin excluded, pneumo-\fthorax not seen';
    expect((await sut.extract('pdf', pdf)).text).toBe(expected);
    expect((await sut.pdfTextLayer(pdf)).text).toBe(expected);
  });

  it('stops OCR at OCR_MAX_PAGES and says how many pages were read, progress counting the pages it reads', async () => {
    const limited = new Extractor({ ...options(), maxOcrPages: 1 });
    const progress: Array<[number, number]> = [];
    const r = await limited.extract('pdf', await scannedPdf([['Discharge letter'], ['Atrial fibrillation']]), (d, t) => progress.push([d, t]));
    expect(r.text.split('\f')).toEqual([expect.stringMatching(/Discharge letter/i), '']);
    expect(progress).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(r.extraction).toEqual({ status: 'ok', code: 'ocr_limit', pages: 2, ocrPages: 1, skippedPages: 1 });
    const shown = describeExtraction(r.extraction);
    expect(shown).toEqual({ status: 'ok', reason: 'only 1 of 2 pages were read (OCR_MAX_PAGES)' });
    // An export carries the reason's text; re-imported, it is the same extraction.
    expect(describeExtraction(extractionFromApi(shown)!)).toEqual(shown);
  });

  it('says "OCR not installed" when the tesseract binary is missing, keeping any text layer', async () => {
    const missing = new Extractor(options({ tesseractPath: '/nonexistent/tesseract' }));
    expect(await failure(missing.extract('image', await textPng(['x'])))).toBe('ocr_missing');
    const r = await missing.extract('pdf', await scannedPdf([['scanned']]));
    expect(r.extraction).toMatchObject({ status: 'failed', code: 'ocr_missing' });
  });

  it('refuses huge image dimensions from the header, before any decoder runs', async () => {
    expect(await failure(sut.extract('image', pngHeader(60_000, 60_000)))).toBe('image_too_large');
  });

  it('refuses to rasterise an enormous PDF page', async () => {
    const r = await sut.extract('pdf', await hugePagePdf());
    expect(r.extraction).toMatchObject({ status: 'failed', code: 'page_too_large' });
  });

  it('kills a tool that runs past its time limit', async () => {
    const slow = new Extractor(options({ pageTimeoutMs: 1 }));
    expect(await failure(slow.extract('image', await textPng(['timing out'])))).toBe('timed_out');
  });

  it('reads Word, Excel, OpenDocument and PowerPoint files', async () => {
    expect((await sut.extract('docx', await docx(['Cardiology letter', 'paroxysmal atrial fibrillation']))).text).toBe(
      'Cardiology letter\n\nparoxysmal atrial fibrillation',
    );
    const sheet = await sut.extract(
      'xlsx',
      await xlsx({
        Labs: [
          ['Test', 'Value'],
          ['Ferritin', 12],
        ],
        Notes: [['fasting']],
      }),
    );
    expect(sheet.text).toBe('Sheet: Labs\nTest\tValue\nFerritin\t12\n\nSheet: Notes\nfasting');
    expect(
      (
        await sut.extract(
          'ods',
          await ods('Weights', [
            ['Date', 'kg'],
            ['2026-01-02', '71.5'],
          ]),
        )
      ).text,
    ).toBe('Sheet: Weights\nDate\tkg\n2026-01-02\t71.5');
    const slides = await sut.extract('pptx', await pptx(['Intro', 'Results']));
    expect(slides.text).toBe('Intro\fResults');
    expect(slides.extraction).toEqual({ status: 'ok', pages: 2 });
  });

  it('refuses a zip bomb before unpacking it', async () => {
    expect(await failure(sut.extract('docx', await docx(['x'], 16 * 1024 * 1024)))).toBe('unzips_too_large');
  });

  it('reads HTML as text only and refuses deep nesting', async () => {
    const r = await sut.extract(
      'html',
      Buffer.from(
        '<html><head><script>alert("x")</script><style>p{}</style></head><body><h1>Ferritin</h1><p>low <img src="http://example.invalid/x.png"> iron</p></body></html>',
      ),
    );
    expect(r.text).toMatch(/FERRITIN|Ferritin/);
    expect(r.text).toContain('low iron');
    expect(r.text).not.toContain('alert');
    expect(await failure(sut.extract('html', Buffer.from('<div>'.repeat(10_000) + 'deep')))).toBe('too_deep');
  });

  it('reads an e-mail with its headers and hands its attachment back', async () => {
    const r = await sut.extract(
      'eml',
      eml({
        from: 'Dr Lee <lee@clinic.example>',
        to: 'me@example.com',
        subject: 'Your results',
        date: 'Tue, 3 Mar 2026 10:00:00 +0000',
        body: 'Ferritin is low.',
        attachment: { name: 'report.txt', type: 'text/plain', data: Buffer.from('Ferritin 12 ng/mL') },
      }),
    );
    expect(r.text).toContain('From: "Dr Lee" <lee@clinic.example>');
    expect(r.text).toContain('Subject: Your results');
    expect(r.text).toContain('Date: 2026-03-03T10:00:00.000Z');
    expect(r.text).toContain('Ferritin is low.');
    expect(r.attachments).toHaveLength(1);
    expect(r.attachments![0]).toMatchObject({ name: 'report.txt', contentType: 'text/plain' });
    expect(Buffer.from(r.attachments![0]!.bytes).toString()).toBe('Ferritin 12 ng/mL');
  });

  it('reads every message of an mbox', async () => {
    const one = eml({ from: 'a@example.com', to: 'me@example.com', subject: 'First', date: 'Tue, 3 Mar 2026 10:00:00 +0000', body: 'alpha body' });
    const two = eml({ from: 'b@example.com', to: 'me@example.com', subject: 'Second', date: 'Wed, 4 Mar 2026 10:00:00 +0000', body: 'beta body' });
    const mbox = Buffer.concat([
      Buffer.from('From a@example.com Tue Mar  3 10:00:00 2026\n'),
      one,
      Buffer.from('\nFrom b@example.com Wed Mar  4 10:00:00 2026\n'),
      two,
    ]);
    const r = await sut.extract('mbox', mbox);
    expect(r.text).toContain('Subject: First');
    expect(r.text).toContain('alpha body');
    expect(r.text).toContain('Subject: Second');
    expect(r.text).toContain('beta body');
  });

  it('says an encrypted or damaged PDF is one, with a code', async () => {
    expect(await failure(sut.extract('pdf', Buffer.from('%PDF-1.7\n garbage')))).toBe('damaged');
    const locked = await readFile(new URL('../../test/fixtures/pdf/password-protected.pdf', import.meta.url));
    expect(await failure(sut.extract('pdf', locked))).toBe('encrypted');
  });

  describe('scanned pages that carry a little text', () => {
    it('OCRs an image page whose only text is a copier stamp, or a dot, in place of that text', async () => {
      const letter = await turnedImage(LETTER, 0);
      for (const stamp of ['Scanned by Xerox WorkCentre 7845 - page 1', '   .  ']) {
        const pdf = await imagePdf([letter], stamp);
        expect(await sut.pdfTextLayer(pdf)).toMatchObject({ needsOcr: true });
        const progress: number[] = [];
        const r = await sut.extract('pdf', pdf, (d) => progress.push(d));
        expect(r.text).toMatch(/Skorvantic/);
        expect(progress).toEqual([0, 1]);
        expect(r.extraction).toMatchObject({ status: 'ok', pages: 1, ocrPages: 1 });
      }
    }, 60_000);

    it('does not OCR a text page with little text, nor one with a small picture on it', async () => {
      const title = await textPdf([['Annual report 2025'], ['Signed: A. Hartwell']]);
      expect(await sut.pdfTextLayer(title)).toMatchObject({ needsOcr: false });
      const doc = await PDFDocument.create();
      const logo = await doc.embedPng(await textPng(['Clinic']));
      const page = doc.addPage([612, 792]);
      page.drawImage(logo, { x: 40, y: 700, width: 120, height: 60 });
      page.drawText('Signature page', { x: 40, y: 600, size: 12 });
      const signed = Buffer.from(await doc.save());
      expect(await sut.pdfTextLayer(signed)).toMatchObject({ needsOcr: false });
      const progress: number[] = [];
      const r = await sut.extract('pdf', signed, (d) => progress.push(d));
      expect(progress).toEqual([]);
      expect(r).toMatchObject({ text: 'Signature page', extraction: { status: 'ok', pages: 1 } });
    });
  });

  describe('pages and photos not the right way up', () => {
    it('reads a scan upside down or turned 90° counter-clockwise, as an image and as a PDF page', async () => {
      for (const turn of [180, 90] as const) {
        const png = await turnedImage(LETTER, turn);
        expect((await sut.extract('image', png)).text).toMatch(/Findings: small Skorvantic cyst/);
        expect((await sut.extract('pdf', await imagePdf([png]))).text).toMatch(/Findings: small Skorvantic cyst/);
      }
    }, 120_000);

    it('reads a phone photo stored turned with EXIF Orientation 6, as the browser shows it', async () => {
      const photo = withExifOrientation(await turnedImage(LETTER, 90, 'jpeg'), 6);
      const r = await sut.extract('image', photo);
      expect(r.text).toMatch(/Findings: small Skorvantic cyst/);
      expect(r.extraction).toMatchObject({ status: 'ok', ocrPages: 1 });
    }, 60_000);

    it('still reads an upright page in one pass, laid out line by line as before', async () => {
      const r = await sut.extract('image', await turnedImage(LETTER, 0));
      expect(r.text.split('\n').slice(0, 3)).toEqual(['Radiology Report', '', 'Patient: Jordan Example. Date: 14 March 2025.']);
    });
  });
});
