/**
 * OCR throughput (issue 15): pages per second through the extractor (pdftoppm rasterising each
 * page from stdin, tesseract reading it from stdin, both under prlimit with a time limit),
 * against bare `tesseract` on the same pages already rendered to PNG (the baseline: the work
 * the model itself does, no rasterising, no limits). Pages are generated (pdf-lib text, rendered
 * by poppler, wrapped in an image-only PDF). `BENCH_OCR_PAGES` (default 6). Run alone:
 *   npx tsx bench/run.ts ocr
 */
import { spawnSync } from 'node:child_process';
import { Extractor } from '../server/files/extraction/extractor.js';
import { scannedPdf, textPng } from '../server/test/extraction-fixtures.js';
import type { BenchResult } from './types.js';

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

export default async function run(): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_OCR_PAGES ?? 6);
  const pages = Array.from({ length: n }, (_, i) => [
    `Page ${i + 1} discharge summary`,
    `Ferritin ${10 + i} ng/mL haemoglobin ${12 + i / 10} g/dL`,
    'Follow up in three months',
  ]);
  const pdf = await scannedPdf(pages);
  const pngs = await Promise.all(pages.map((p) => textPng(p)));
  const extractor = new Extractor({
    ocr: { tesseractPath: 'tesseract', pdftoppmPath: 'pdftoppm', langs: 'eng', dpi: 150, maxPixels: 40_000_000, pageTimeoutMs: 120_000, memoryMb: 1024 },
    maxOcrPages: 1000,
    pdfTimeoutMs: 60_000,
    documents: { timeoutMs: 30_000, maxUnzippedBytes: 1 << 28, maxDepth: 512, maxAttachments: 10 },
  });

  let t0 = performance.now();
  for (const png of pngs) {
    const r = spawnSync('tesseract', ['stdin', 'stdout', '-l', 'eng'], { input: png, env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
    if (r.status !== 0) throw new Error('tesseract failed');
  }
  const bare = n / ((performance.now() - t0) / 1000);

  t0 = performance.now();
  const scanned = await extractor.extract('pdf', pdf);
  const ours = n / ((performance.now() - t0) / 1000);
  if (scanned.extraction.status !== 'ok' || scanned.text.split('\f').length !== n) throw new Error('OCR did not read every page');

  t0 = performance.now();
  for (const png of pngs) await extractor.extract('image', png);
  const photos = n / ((performance.now() - t0) / 1000);

  return [
    {
      name: `OCR of a scanned PDF (${n} pages, 150 dpi): rasterise + tesseract under limits`,
      value: round(ours),
      unit: 'pages/s',
      baseline: { name: 'bare tesseract on pre-rendered PNGs', value: round(bare) },
      ratio: round(ours / bare),
      target: '>= 0.5 of bare tesseract',
      pass: ours >= bare * 0.5,
    },
    {
      name: `OCR of photos (${n} PNGs): header check + tesseract under limits`,
      value: round(photos),
      unit: 'pages/s',
      baseline: { name: 'bare tesseract on the same PNGs', value: round(bare) },
      ratio: round(photos / bare),
      target: '>= 0.8 of bare tesseract',
      pass: photos >= bare * 0.8,
    },
  ];
}
