import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeChunk } from '../series/day-chunk.js';
import { createSeriesSink, importAppleHealth } from './import.js';
import { writeSyntheticExport } from '../../test-support/integrations/apple-health/export-writer.js';

// A memory bound, not a timing threshold: a 200 MB export.xml streamed from disk through the
// whole pipeline (parse, aggregate into day chunks, encode) must not grow the process by more
// than ~150 MB. Reading it into one string would need 400 MB+ (UTF-16) on its own.
const MB = 1024 * 1024;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-ah-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('parses a 200 MB export with flat memory', async () => {
  const path = join(dir, 'export.xml');
  const gen = await writeSyntheticExport(path, 200 * MB);
  expect(gen.bytes).toBeGreaterThanOrEqual(200 * MB);
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  let chunks = 0;
  let chunkSamples = 0;
  let records = 0;
  try {
    const sink = createSeriesSink({
      chunks(batch) {
        for (const c of batch) {
          chunks++;
          chunkSamples += c.samples.length;
          encodeChunk(c);
        }
        sample();
      },
      records(batch) {
        records += batch.length;
      },
    });
    let lastDone = 0;
    const res = await importAppleHealth({ xmlPath: path }, sink, {
      onProgress: (p) => {
        lastDone = p.done;
        sample();
      },
    });
    await sink.finish();
    expect(lastDone).toBe(gen.bytes);
    expect(res.counts.Record).toBe(gen.records);
    expect(chunks).toBeGreaterThan(gen.days * 3);
    expect(chunkSamples).toBeGreaterThan(gen.records * 0.9);
    // The profile, then per day one stand-hour record, one workout and one activity summary.
    expect(records).toBe(1 + gen.days * 3);
  } finally {
    clearInterval(timer);
  }
  const growth = (peak - before) / MB;
  console.log(`200 MB export: RSS ${Math.round(before / MB)} -> peak ${Math.round(peak / MB)} MB (+${Math.round(growth)} MB)`);
  expect(growth).toBeLessThan(150);
}, 120_000);
