import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIASTOLIC, ENERGY, HR, STEPS, SYSTOLIC, writeAppleHealthExport, type ExportOrder, type ExportSummary } from '../../bench/generators/apple-health.js';
import { computeStats, decodeChunk, mergeChunks, type DayChunk } from '../../integrations/series/day-chunk.js';
import { openChunk } from '../codec/series.js';
import { prepareWorkerBundle, runAppleHealthInWorker } from './apple-health-job.js';
import { ImportFiles } from './encrypted-file.js';

// The worker's memory must not depend on the order of the records nor on how fast the database
// takes what it sends. Here its heap is capped far below the default (and below what one input
// chunk pinned per kept value used to cost an interleaved export: ~7 MB per day of input), and
// the store is slow on purpose, so the parser spends most of the run waiting for credit. The
// run must finish, every sample must arrive exactly once, and the heap seen stays under the cap.
const HEAP_MB = 40;
const DAYS = 12;

let dir: string;
let files: ImportFiles;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cv-ah-worker-mem-'));
  files = ImportFiles.onDisk(path.join(dir, 'imports'));
  await prepareWorkerBundle();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function importSlowly(gen: ExportSummary) {
  const userId = randomUUID();
  const jobId = randomUUID();
  const seal = { key: randomBytes(32), aad: `test|${jobId}` };
  const seriesKey = randomBytes(32);
  await files.write(userId, jobId, seal, createReadStream(gen.path), new PassThrough());
  const days = new Map<string, DayChunk>();
  let batches = 0;
  let parts = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 15));
    inFlight--;
  };
  const stats = await runAppleHealthInWorker(
    {
      storage: files.spec,
      userId,
      jobId,
      format: 'xml',
      seal,
      seriesKey: new Uint8Array(seriesKey),
      signal: new AbortController().signal,
      heapLimitMb: HEAP_MB,
      // Tighter than the defaults, so days are flushed early and merged later in both orders.
      maxOpenChunks: 8,
      maxOpenSamples: 12_000,
    },
    {
      async chunks(batch) {
        batches++;
        await slow();
        for (const c of batch) {
          parts++;
          // What the series service does with a sealed chunk: open it, merge it into the day.
          const chunk = decodeChunk(openChunk(seriesKey, { userId, type: c.type, date: c.date, version: 1 }, c.ciphertext));
          const k = `${c.type}|${c.date}`;
          const had = days.get(k);
          days.set(k, had ? mergeChunks(had, chunk) : chunk);
        }
      },
      records: slow,
      progress: () => {},
    },
  );
  await files.remove(userId, jobId);
  return { stats, days, batches, parts, maxInFlight };
}

describe('Apple Health import worker memory', () => {
  it.each<ExportOrder>(['interleaved', 'days-shuffled'])(
    'imports a %s export under a small heap cap with a slow store, every sample once',
    async (order) => {
      const gen = await writeAppleHealthExport(path.join(dir, `${order}.xml`), { order, days: DAYS });
      expect(gen.bytes).toBeGreaterThan(DAYS * 3_000_000);
      const { stats, days, batches, parts, maxInFlight } = await importSlowly(gen);
      await rm(gen.path, { force: true });
      console.log(
        `${order}: worker heap peak ${(stats.heapPeak / 1048576).toFixed(1)} MB of ${HEAP_MB} MB; ${parts} chunks for ${days.size} days in ${batches} batches`,
      );

      expect(stats.heapLimitMb).toBe(HEAP_MB);
      expect(stats.heapPeak).toBeGreaterThan(0);
      expect(stats.heapPeak).toBeLessThan(HEAP_MB * 1024 * 1024);
      // Stored one batch at a time, in order.
      expect(maxInFlight).toBe(1);
      // Days were flushed early and came back (merged above), as the bounds require.
      expect(parts).toBeGreaterThan(days.size);
      expect(batches).toBeGreaterThan(1);
      for (const type of [HR, STEPS, ENERGY, SYSTOLIC, DIASTOLIC]) {
        const got = [...days.values()]
          .filter((c) => c.type === type)
          .sort((a, b) => a.date.localeCompare(b.date))
          .map((c) => ({ date: c.date, stats: computeStats(c) }));
        const want = gen.expectedDays(type);
        expect(
          got.map((d) => d.date),
          type,
        ).toEqual(want.map((d) => d.date));
        for (let i = 0; i < want.length; i++) {
          expect(got[i]!.stats.count, `${type} ${want[i]!.date}`).toBe(want[i]!.count);
          expect(got[i]!.stats.sum).toBeCloseTo(want[i]!.sum, 6);
        }
      }
    },
    180_000,
  );
});
