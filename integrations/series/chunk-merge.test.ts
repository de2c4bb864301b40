import { describe, expect, it } from 'vitest';
import type { QuantitySample } from '../types.js';
import { ChunkMerger } from './chunk-merge.js';
import { addSamples, decodeChunk, emptyChunk, encodeChunk, mergeChunks, type DayChunk } from './day-chunk.js';

const HR = 'HKQuantityTypeIdentifierHeartRate';
const STEPS = 'HKQuantityTypeIdentifierStepCount';
const MASS = 'HKQuantityTypeIdentifierBodyMass';
const DATE = '2026-06-01';
const T0 = Date.UTC(2026, 5, 1) - 3600_000;

/** Seeded numbers in [0, 1) (integrations/ may not use test-support/random.ts). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function chunk(type: string, unit: string, samples: Array<Omit<QuantitySample, 'type' | 'unit' | 'localDate'> & { unit?: string }>): DayChunk {
  return addSamples(
    emptyChunk(type, DATE, unit),
    samples.map((s) => ({ type, localDate: DATE, ...s, unit: s.unit ?? unit })),
  );
}

/** A day of readings every `step` ms from one source, values from `seed`. */
function readings(type: string, unit: string, step: number, source: string, seed: number, from = 0, to = 86_400_000): DayChunk {
  const rnd = mulberry32(seed);
  const samples = [];
  for (let t = from; t < to; t += step) samples.push({ startMs: T0 + t, endMs: T0 + t, value: 50 + Math.floor(rnd() * 100), sourceName: source });
  return chunk(type, unit, samples);
}

describe('ChunkMerger', () => {
  it('gives what mergeChunks gives, encoded byte for byte, on random days', () => {
    const rnd = mulberry32(12);
    const merger = new ChunkMerger();
    for (let round = 0; round < 200; round++) {
      const type = [HR, STEPS, MASS][round % 3]!;
      const units = type === MASS ? ['kg', 'g', '[lb_av]'] : type === STEPS ? ['count'] : ['count/min'];
      const side = () =>
        Array.from({ length: Math.floor(rnd() * 40) }, () => ({
          // Few distinct times, values and sources, so duplicates and ties across the two are common.
          startMs: T0 + Math.floor(rnd() * 10) * 60_000 - (rnd() < 0.1 ? 0.5 : 0),
          endMs: T0 + Math.floor(rnd() * 10) * 60_000,
          value: rnd() < 0.3 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 4000) / 1000,
          sourceName: ['Watch', 'Phone', 'Strap'][Math.floor(rnd() * 3)]!,
          unit: units[Math.floor(rnd() * units.length)]!,
        }));
      const stored = chunk(type, units[0]!, side());
      const incoming = chunk(type, units[Math.floor(rnd() * units.length)]!, side());
      const want = mergeChunks(stored, incoming);
      const got = merger.merge(encodeChunk(stored), encodeChunk(incoming));
      if (want.samples.length === stored.samples.length) {
        expect(got, `round ${round}`).toBeUndefined();
        continue;
      }
      expect(got, `round ${round}`).toBeDefined();
      expect(got!.meta).toEqual({ type, date: DATE, unit: want.unit, sources: want.sources, stats: want.stats });
      expect(got!.count).toBe(want.samples.length);
      expect(got!.added).toBe(want.samples.length - stored.samples.length);
      expect(Buffer.compare(got!.encoded, encodeChunk(want)), `round ${round}`).toBe(0);
    }
  });

  it('keeps sample order when the incoming sources are numbered differently from the stored ones', () => {
    // Same time and value from two sources: the incoming chunk orders them Watch, Phone (its
    // own source numbers); in the merged chunk Phone comes first (stored first, number 0).
    const at = { startMs: T0, endMs: T0 + 60_000, value: 12 };
    const stored = chunk(STEPS, 'count', [{ ...at, sourceName: 'Phone', value: 3 }]);
    const incoming = chunk(STEPS, 'count', [
      { ...at, sourceName: 'Watch' },
      { ...at, sourceName: 'Phone' },
      { ...at, startMs: T0 - 1, sourceName: 'Watch' },
    ]);
    const got = new ChunkMerger().merge(encodeChunk(stored), encodeChunk(incoming));
    expect(Buffer.compare(got!.encoded, encodeChunk(mergeChunks(stored, incoming)))).toBe(0);
    expect(got!.added).toBe(3);
  });

  it('merges into a JSON chunk stored before the binary format, and keeps a day whose unit does not convert', () => {
    const merger = new ChunkMerger();
    const stored = readings(HR, 'count/min', 600_000, 'Watch', 1);
    const incoming = readings(HR, 'count/min', 900_000, 'Strap', 2);
    const got = merger.merge(Buffer.from(JSON.stringify(stored)), encodeChunk(incoming));
    expect(decodeChunk(got!.encoded)).toEqual(mergeChunks(stored, incoming));
    expect(merger.merge(encodeChunk(stored), encodeChunk(readings(HR, 'kg', 900_000, 'Strap', 2)))).toBeUndefined();
    // Nothing new: nothing to write.
    expect(merger.merge(got!.encoded.subarray(), encodeChunk(incoming))).toBeUndefined();
  });

  it('holds the largest day it merged, in bytes, however many days it merges', () => {
    // The bound the import relies on: a transaction that merges hundreds of returning days of
    // 5-second heart rate holds one day's columns, not a day's worth per day merged.
    const merger = new ChunkMerger();
    const strap = (seed: number) => readings(HR, 'count/min', 5_000, 'Strap', seed, 3_600_000, 7_200_000);
    const first = merger.merge(encodeChunk(readings(HR, 'count/min', 5_000, 'Watch', 0)), encodeChunk(strap(0)));
    expect(first!.count).toBe(17_280 + 720);
    const afterOne = merger.bytes;
    // Columns for the stored day, the incoming day and the merged day (28 bytes a sample each),
    // plus the output buffer (at most 40 bytes a sample and the header).
    expect(afterOne).toBeLessThanOrEqual(28 * (17_280 + 720 + 18_000) * 1.5 + 45 * 18_000 * 1.5 + 64 * 1024);
    for (let day = 1; day <= 100; day++) {
      const got = merger.merge(encodeChunk(readings(HR, 'count/min', 5_000, 'Watch', day)), encodeChunk(strap(day)));
      expect(got!.added).toBe(720);
    }
    expect(merger.bytes).toBe(afterOne);
  });
});
