import { describe, expect, it } from 'vitest';
import type { QuantitySample } from '../types.js';
import {
  SeriesAccumulator,
  addSamples,
  readChunkHeader,
  computeStats,
  decodeChunk,
  emptyChunk,
  encodeChunk,
  isCumulative,
  mergeChunks,
  registerCumulativeType,
  type DayChunk,
} from './day-chunk.js';

const HR = 'HKQuantityTypeIdentifierHeartRate';
const STEPS = 'HKQuantityTypeIdentifierStepCount';
const T0 = Date.UTC(2026, 5, 1) - 3600_000; // 2026-06-01 00:00 at +0100

function s(type: string, startMin: number, value: number, sourceName: string, durMin = 0, unit = type === STEPS ? 'count' : '/min'): QuantitySample {
  const startMs = T0 + startMin * 60_000;
  return { type, unit, startMs, endMs: startMs + durMin * 60_000, localDate: '2026-06-01', value, sourceName };
}

describe('isCumulative', () => {
  it('knows sums from readings', () => {
    for (const t of [
      STEPS,
      'HKQuantityTypeIdentifierDistanceWalkingRunning',
      'HKQuantityTypeIdentifierDistanceCycling',
      'HKQuantityTypeIdentifierActiveEnergyBurned',
      'HKQuantityTypeIdentifierBasalEnergyBurned',
      'HKQuantityTypeIdentifierFlightsClimbed',
      'HKQuantityTypeIdentifierAppleExerciseTime',
      'HKQuantityTypeIdentifierAppleStandTime',
      'HKQuantityTypeIdentifierDietaryProtein',
      'HKQuantityTypeIdentifierDietaryEnergyConsumed',
      '41950-7',
      'HKCategoryTypeIdentifierSleepAnalysis',
    ]) {
      expect(isCumulative(t), t).toBe(true);
    }
    for (const t of [HR, 'HKQuantityTypeIdentifierBodyMass', 'HKQuantityTypeIdentifierBloodPressureSystolic', '8867-4']) {
      expect(isCumulative(t), t).toBe(false);
    }
  });

  it('is extendable', () => {
    expect(isCumulative('fitbit:steps')).toBe(false);
    registerCumulativeType('fitbit:steps');
    expect(isCumulative('fitbit:steps')).toBe(true);
  });
});

describe('addSamples / computeStats', () => {
  it('computes discrete stats over every sample, sorted by start', () => {
    const c = addSamples(emptyChunk(HR, '2026-06-01', '/min'), [s(HR, 30, 70, 'Watch'), s(HR, 10, 50, 'Watch'), s(HR, 20, 90, 'Phone')]);
    expect(c.samples.map((r) => r[2])).toEqual([50, 90, 70]);
    expect(c.sources).toEqual(['Watch', 'Phone']);
    expect(c.stats).toEqual({ count: 3, min: 50, max: 90, mean: 70, sum: 210 });
  });

  it('does not double count iPhone + Watch steps: the source with the largest day sum wins', () => {
    const phone = [s(STEPS, 600, 100, 'iPhone', 10), s(STEPS, 610, 200, 'iPhone', 10), s(STEPS, 620, 300, 'iPhone', 10)];
    const watch = [s(STEPS, 600, 150, 'Watch', 10), s(STEPS, 610, 250, 'Watch', 10), s(STEPS, 620, 250, 'Watch', 10)];
    const c = addSamples(emptyChunk(STEPS, '2026-06-01', 'count'), [...phone, ...watch]);
    expect(c.samples).toHaveLength(6);
    expect(c.stats).toEqual({ count: 3, min: 150, max: 250, mean: 650 / 3, sum: 650 });
  });

  it('stores an exact duplicate once, so re-adding changes nothing', () => {
    const batch = [s(STEPS, 600, 100, 'iPhone', 10), s(STEPS, 610, 200, 'iPhone', 10), s(STEPS, 610, 200, 'iPhone', 10)];
    const a = addSamples(emptyChunk(STEPS, '2026-06-01', 'count'), batch);
    expect(a.samples).toHaveLength(2);
    const b = addSamples(a, batch);
    expect(b.samples).toEqual(a.samples);
    expect(b.stats).toEqual(a.stats);
    expect(b.stats.sum).toBe(300);
    // Same start and value from another source, or another value at the same time, are kept.
    const c = addSamples(b, [s(STEPS, 600, 100, 'Watch', 10), s(STEPS, 600, 101, 'iPhone', 10)]);
    expect(c.samples).toHaveLength(4);
    expect(a.samples).toHaveLength(2); // inputs are not modified
  });

  it('converts units and refuses what does not belong', () => {
    const kg = addSamples(emptyChunk('HKQuantityTypeIdentifierBodyMass', '2026-06-01', 'kg'), [
      { ...s('HKQuantityTypeIdentifierBodyMass', 0, 70, 'Scale'), unit: 'kg' },
      { ...s('HKQuantityTypeIdentifierBodyMass', 60, 154, 'App'), unit: '[lb_av]' },
    ]);
    expect(kg.samples[1]![2]).toBeCloseTo(69.853, 3);
    expect(() => addSamples(emptyChunk(HR, '2026-06-01', '/min'), [{ ...s(HR, 0, 60, 'W'), localDate: '2026-06-02' }])).toThrow(RangeError);
    expect(() => addSamples(emptyChunk(HR, '2026-06-01', '/min'), [s(HR, 0, NaN, 'W')])).toThrow(RangeError);
    expect(() => addSamples(emptyChunk(HR, '2026-06-01', '/min'), [{ ...s(HR, 0, 60, 'W'), unit: 'kg' }])).toThrow(/convert/);
  });

  it('gives zero stats for an empty chunk', () => {
    expect(computeStats(emptyChunk(HR, '2026-06-01', '/min'))).toEqual({ count: 0, min: 0, max: 0, mean: 0, sum: 0 });
  });

  it('merges chunks without duplicates', () => {
    const a = addSamples(emptyChunk(STEPS, '2026-06-01', 'count'), [s(STEPS, 0, 10, 'iPhone', 5), s(STEPS, 5, 20, 'iPhone', 5)]);
    const b = addSamples(emptyChunk(STEPS, '2026-06-01', 'count'), [s(STEPS, 5, 20, 'iPhone', 5), s(STEPS, 10, 30, 'Watch', 5), s(STEPS, 15, 40, 'iPhone', 5)]);
    const m = mergeChunks(a, b);
    expect(m.samples).toHaveLength(4);
    expect(m.sources).toEqual(['iPhone', 'Watch']);
    expect(m.stats).toEqual({ count: 3, min: 10, max: 40, mean: 70 / 3, sum: 70 });
    expect(mergeChunks(m, a)).toEqual(m);
  });
});

describe('encodeChunk / decodeChunk', () => {
  function hrDay(step = 5000): DayChunk {
    const samples: QuantitySample[] = [];
    for (let t = 0; t < 86_400_000; t += step) {
      samples.push({
        type: HR,
        unit: '/min',
        startMs: T0 + t,
        endMs: T0 + t,
        localDate: '2026-06-01',
        value: 55 + ((t / step) % 70),
        sourceName: 'Apple Watch',
      });
    }
    return addSamples(emptyChunk(HR, '2026-06-01', '/min'), samples);
  }

  it('round-trips a day of 5-second heart rate in far less than JSON', () => {
    const c = hrDay();
    expect(c.samples).toHaveLength(17_280);
    const bin = encodeChunk(c);
    const json = Buffer.from(JSON.stringify(c));
    expect(decodeChunk(bin)).toEqual(c);
    const { samples: _s, ...header } = c;
    expect(readChunkHeader(bin)).toEqual(header);
    expect(readChunkHeader(json)).toEqual(header);
    // ~5 bytes a sample against ~23 for JSON.
    expect(bin.length).toBeLessThan(json.length / 3);
    expect(bin.length).toBeLessThan(110 * 1024);
  });

  it('round-trips fractional values, negative durations, old dates and several sources exactly', () => {
    const c = addSamples(emptyChunk('HKQuantityTypeIdentifierBodyMass', '1969-12-31', 'kg'), [
      { type: 'HKQuantityTypeIdentifierBodyMass', unit: 'kg', startMs: -5000, endMs: -6000, localDate: '1969-12-31', value: 70.123456789, sourceName: 'A' },
      { type: 'HKQuantityTypeIdentifierBodyMass', unit: 'kg', startMs: -4000, endMs: 10, localDate: '1969-12-31', value: -0.1, sourceName: 'B' },
      { type: 'HKQuantityTypeIdentifierBodyMass', unit: 'kg', startMs: 1.5, endMs: 2, localDate: '1969-12-31', value: 9.87654321e11, sourceName: 'A' },
    ]);
    expect(decodeChunk(encodeChunk(c))).toEqual(c);
    const ints = addSamples(emptyChunk(STEPS, '2026-06-01', 'count'), [s(STEPS, 0, 2 ** 40, 'A', 3), s(STEPS, 1, -7, 'B', 0)]);
    expect(decodeChunk(encodeChunk(ints))).toEqual(ints);
    // Decimal values are stored as scaled integers (here x10^4: 2-3 bytes each, not 8).
    const kcal = addSamples(
      emptyChunk('HKQuantityTypeIdentifierActiveEnergyBurned', '2026-06-01', 'kcal'),
      Array.from({ length: 1000 }, (_, i) => ({
        ...s('HKQuantityTypeIdentifierActiveEnergyBurned', i, [0.183, 1.2, 0.3, 68.0391, 5][i % 5]!, 'W', 1),
        unit: 'kcal',
      })),
    );
    expect(decodeChunk(encodeChunk(kcal))).toEqual(kcal);
    expect(encodeChunk(kcal).length).toBeLessThan(1000 * 11); // f64 values would need ~15 B a sample
    const odd = addSamples(kcal, [{ ...s('HKQuantityTypeIdentifierActiveEnergyBurned', 2000, 0.1 + 0.2, 'W', 1), unit: 'kcal' }]);
    expect(decodeChunk(encodeChunk(odd))).toEqual(odd); // falls back to f64, still exact
    const empty = emptyChunk(HR, '2026-06-01', '/min');
    expect(decodeChunk(encodeChunk(empty))).toEqual(empty);
  });

  it('reads JSON chunks and refuses garbage', () => {
    const c = hrDay(600_000);
    expect(decodeChunk(Buffer.from(JSON.stringify(c)))).toEqual(c);
    const bin = encodeChunk(c);
    expect(() => decodeChunk(bin.subarray(0, bin.length - 3))).toThrow();
    expect(() => decodeChunk(Buffer.from('nope nope nope nope'))).toThrow(/not a day chunk/);
    expect(() => decodeChunk(Buffer.concat([bin, Buffer.from([0])]))).toThrow(/trailing/);
  });
});

describe('SeriesAccumulator', () => {
  it('groups by (type, day), drains least recently touched first and keeps the open group', () => {
    const acc = new SeriesAccumulator();
    const day = (d: string, v: number, src = 'W'): QuantitySample => ({
      type: HR,
      unit: '/min',
      startMs: Date.parse(`${d}T12:00:00Z`) + v,
      endMs: Date.parse(`${d}T12:00:00Z`) + v,
      localDate: d,
      value: v,
      sourceName: src,
    });
    acc.addMany([
      day('2026-06-01', 1),
      day('2026-06-01', 2),
      day('2026-06-02', 3),
      day('2026-06-03', 4),
      { ...day('2026-06-01', 5), type: STEPS, unit: 'count' },
    ]);
    expect(acc.size).toBe(4);
    expect(acc.sampleCount).toBe(5);
    const first = acc.drain(2);
    expect(first.map((c) => `${c.type} ${c.date}`)).toEqual([`${HR} 2026-06-01`, `${HR} 2026-06-02`]);
    expect(first[0]!.stats).toEqual({ count: 2, min: 1, max: 2, mean: 1.5, sum: 3 });
    expect(acc.drain(10).map((c) => c.date)).toEqual(['2026-06-03']); // the STEPS group is still being written
    expect(acc.size).toBe(1);
    const rest = acc.drainAll();
    expect(rest.map((c) => c.type)).toEqual([STEPS]);
    expect(acc.size).toBe(0);
    expect(acc.sampleCount).toBe(0);
  });

  it('a day drained early and completed later merges to the same chunk', () => {
    const acc = new SeriesAccumulator();
    const all = [s(HR, 0, 60, 'W'), s(HR, 1, 61, 'W'), s(HR, 2, 62, 'W'), s(HR, 3, 63, 'W')];
    acc.addMany(all.slice(0, 2));
    acc.add({ ...s(HR, 0, 1, 'W'), localDate: '2026-06-02' }); // another day takes over
    const early = acc.drain(1);
    acc.addMany(all.slice(1));
    const late = acc.drainAll().filter((c) => c.date === '2026-06-01');
    const merged = mergeChunks(early[0]!, late[0]!);
    expect(merged).toEqual(addSamples(emptyChunk(HR, '2026-06-01', '/min'), all));
  });

  it('converts what mixed sources write on one day, and leaves out what it cannot use', () => {
    const acc = new SeriesAccumulator();
    const TEMP = 'HKQuantityTypeIdentifierBodyTemperature';
    const t = (min: number, value: number, unit: string): QuantitySample => ({ ...s(TEMP, min, value, unit === 'Cel' ? 'Thermometer' : 'App'), unit });
    const left = acc.addMany([
      t(0, 37, 'Cel'),
      t(60, 98.6, '[degF]'),
      t(120, 3, '[fur_us]'),
      t(180, Infinity, 'Cel'),
      t(240, 1e308, 'Cel'),
      t(300, NaN, '[degF]'),
    ]);
    expect(left).toBe(4);
    expect(acc.sampleCount).toBe(2);
    const [day] = acc.drainAll();
    expect(day!.unit).toBe('Cel');
    expect(day!.samples.map((r) => r[2])).toEqual([37, expect.closeTo(37, 10)]);
    expect(day!.stats.mean).toBeCloseTo(37, 10);
    // A chunk met again in another unit merges converted, with the offset.
    const f = addSamples(emptyChunk(TEMP, '2026-06-01', '[degF]'), [t(400, 100.4, '[degF]')]);
    expect(mergeChunks(day!, f).samples.map((r) => Math.round(r[2] * 10) / 10)).toEqual([37, 37, 38]);
  });
});
