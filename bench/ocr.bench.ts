/**
 * OCR throughput (issue 15): pages per second through the extractor (pdftoppm rasterising each
 * page from stdin, tesseract reading it from stdin, both under prlimit with a time limit),
 * against bare `tesseract` on the same pages already rendered to PNG (the baseline: the work
 * the model itself does, no rasterising, no limits). Pages are generated (pdf-lib text, rendered
 * by poppler, wrapped in an image-only PDF). `BENCH_OCR_PAGES` (default 10). Run alone:
 *   npx tsx bench/run.ts ocr
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Extractor } from '../server/files/extraction/extractor.js';
import { scannedPdf, textPng } from '../test-support/server/extraction-fixtures.js';
import type { BenchResult } from './types.js';

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** CPU seconds of this process and of its waited-for children (/proc: cutime, cstime), in ticks of 1/100 s. */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 is index 0: cutime is field 16, cstime field 17.
  const children = (Number(fields[13]) + Number(fields[14])) / 100;
  return (own.user + own.system) / 1e6 + children;
}

async function measure(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const [w0, c0] = [performance.now(), cpuSeconds()];
  await work();
  return { wall: (performance.now() - w0) / 1000, cpu: cpuSeconds() - c0 };
}

export default async function run(): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_OCR_PAGES ?? 10);
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

  const bare = await measure(async () => {
    for (const png of pngs) {
      const r = spawnSync('tesseract', ['stdin', 'stdout', '-l', 'eng'], { input: png, env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
      if (r.status !== 0) throw new Error('tesseract failed');
    }
  });
  let scanned: Awaited<ReturnType<Extractor['extract']>> | undefined;
  const pdfRun = await measure(async () => {
    scanned = await extractor.extract('pdf', pdf);
  });
  if (scanned?.extraction.status !== 'ok' || scanned.text.split('\f').length !== n) throw new Error('OCR did not read every page');
  const photos = await measure(async () => {
    for (const png of pngs) await extractor.extract('image', png);
  });

  // On a shared machine wall time swings with everyone else's load; CPU time is what each path costs.
  const perCpu = (m: { cpu: number }) => n / m.cpu;
  const perWall = (m: { wall: number }) => n / m.wall;
  return [
    {
      name: `OCR of a scanned PDF (${n} pages, 150 dpi), rasterise + tesseract under limits, pages per CPU-second`,
      value: round(perCpu(pdfRun)),
      unit: 'pages/cpu-s',
      baseline: { name: 'bare tesseract on pre-rendered PNGs', value: round(perCpu(bare)) },
      ratio: round(perCpu(pdfRun) / perCpu(bare)),
      target: '>= 0.5 of bare tesseract (rasterising is extra work)',
      pass: perCpu(pdfRun) >= perCpu(bare) * 0.5,
    },
    {
      name: `OCR of photos (${n} PNGs), header check + tesseract under limits, pages per CPU-second`,
      value: round(perCpu(photos)),
      unit: 'pages/cpu-s',
      baseline: { name: 'bare tesseract on the same PNGs', value: round(perCpu(bare)) },
      ratio: round(perCpu(photos) / perCpu(bare)),
      target: '>= 0.8 of bare tesseract',
      pass: perCpu(photos) >= perCpu(bare) * 0.8,
    },
    {
      name: `OCR of a scanned PDF (${n} pages), wall clock`,
      value: round(perWall(pdfRun)),
      unit: 'pages/s',
      baseline: { name: 'bare tesseract, wall clock', value: round(perWall(bare)) },
      ratio: round(perWall(pdfRun) / perWall(bare)),
    },
  ];
}
