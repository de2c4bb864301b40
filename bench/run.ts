/**
 * `npm run bench`: runs every benchmark (or those named on the command line) and prints each
 * figure with its baseline, ratio and target. All baselines are measured in the same run.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
let failed = 0;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  if (only.length && !only.includes(name)) continue;
  process.stdout.write(`\n== ${name}\n`);
  const mod = (await import(path.join(here, file))) as { default: () => Promise<BenchResult[]> };
  let results: BenchResult[];
  try {
    results = await mod.default();
  } catch (err) {
    failed++;
    process.stdout.write(`  ERROR ${(err as Error).stack ?? String(err)}\n`);
    continue;
  }
  for (const r of results) {
    const base = r.baseline ? `  vs ${r.baseline.name} ${fmt(r.baseline.value)}` : '';
    const ratio = r.ratio !== undefined ? `  ratio ${r.ratio.toFixed(2)}` : '';
    const target = r.target ? `  target ${r.target}` : '';
    const verdict = r.pass === undefined ? '' : r.pass ? '  PASS' : '  MISS';
    if (r.pass === false) failed++;
    process.stdout.write(`  ${r.name}: ${fmt(r.value)} ${r.unit}${base}${ratio}${target}${verdict}\n`);
  }
}
process.stdout.write(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) missed or errored`}\n`);
