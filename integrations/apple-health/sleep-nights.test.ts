import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { QuantitySample } from '../types.js';
import { mergeChunks, SeriesAccumulator, type DayChunk } from '../series/day-chunk.js';
import { parseAppleDate } from './dates.js';
import { parseExportXml } from './parse.js';
import { NIGHT_GAP_MS, SleepNights, type SleepSegment } from './sleep-nights.js';
import { exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';

const SL = 'HKCategoryTypeIdentifierSleepAnalysis';
const V = 'HKCategoryValueSleepAnalysis';
const W = 'Anna’s Apple Watch';
const P = 'Anna’s iPhone';
const sleep = (src: string, s: string, e: string, stage: string) =>
  `  <Record type="${SL}" sourceName="${src}" sourceVersion="10.5" creationDate="${e}" startDate="${s}" endDate="${e}" value="${V}${stage}"/>\n`;
const hr = (v: number, at: string) => recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', v, W, at);
const stand = (s: string, e: string) =>
  `  <Record type="HKCategoryTypeIdentifierAppleStandHour" sourceName="${W}" startDate="${s}" endDate="${e}" value="HKCategoryValueAppleStandHourStood"/>\n`;

/** The probe's night: in bed 21:50, asleep 22:00 to 06:00 (480 min), all +0200. */
const NIGHT = [
  sleep(W, '2024-07-01 21:50:00 +0200', '2024-07-02 06:10:00 +0200', 'InBed'),
  sleep(W, '2024-07-01 22:00:00 +0200', '2024-07-02 01:00:00 +0200', 'AsleepCore'),
  sleep(W, '2024-07-02 01:00:00 +0200', '2024-07-02 02:00:00 +0200', 'AsleepDeep'),
  sleep(W, '2024-07-02 02:00:00 +0200', '2024-07-02 06:00:00 +0200', 'AsleepCore'),
];

/** Parses a body, cut into small chunks (so held segments cross chunk and batch boundaries), on both paths. */
async function parse(body: string): Promise<QuantitySample[]> {
  const xml = exportXml(body);
  const chunks: string[] = [];
  for (let i = 0; i < xml.length; i += 97) chunks.push(xml.slice(i, i + 97));
  const runs: QuantitySample[][] = [];
  for (const fastPath of [true, false]) {
    const out: QuantitySample[] = [];
    await parseExportXml(Readable.from(chunks), { samples: (b) => void out.push(...b), records() {} }, { fastPath, sampleBatch: 3 });
    runs.push(out);
  }
  expect(runs[1]).toEqual(runs[0]);
  return runs[0]!;
}

/** Day chunks of the samples, keyed "type date": what the store would hold. */
function chunksOf(samples: QuantitySample[]): Map<string, DayChunk> {
  const acc = new SeriesAccumulator();
  acc.addMany(samples);
  return new Map(acc.drainAll().map((c) => [`${c.type} ${c.date}`, c]));
}

/** Each day's total (stats.sum: the largest single source's) per "type date". */
async function sums(body: string): Promise<Record<string, number>> {
  return Object.fromEntries([...chunksOf(await parse(body))].map(([k, c]) => [k, c.stats.sum]));
}

describe('Apple Health sleep: one night, one date', () => {
  it('files a night that crosses midnight whole on the date it started (the probe)', async () => {
    const samples = await parse(NIGHT.join(''));
    expect(await sums(NIGHT.join(''))).toEqual({
      [`${SL} 2024-07-01`]: 480,
      [`${V}InBed 2024-07-01`]: 500,
      [`${V}AsleepCore 2024-07-01`]: 420,
      [`${V}AsleepDeep 2024-07-01`]: 60,
    });
    // Only the day changes: each sample keeps its own real start and end.
    const deep = samples.find((s) => s.type === `${V}AsleepDeep`)!;
    expect(deep).toEqual({
      type: `${V}AsleepDeep`,
      unit: 'min',
      startMs: parseAppleDate('2024-07-02 01:00:00 +0200'),
      endMs: parseAppleDate('2024-07-02 02:00:00 +0200'),
      localDate: '2024-07-01',
      value: 60,
      sourceName: W,
    });
  });

  it('gives the same days whatever the order of the segments and the records between them', async () => {
    const expected = await sums(NIGHT.join(''));
    const reversed = [...NIGHT].reverse();
    expect(await sums(reversed.join(''))).toEqual(expected);
    // The latest segment first, the night's start last, heart rate and another category between.
    const mixed = [
      NIGHT[3],
      hr(52, '2024-07-02 03:00:00 +0200'),
      NIGHT[2],
      stand('2024-07-01 20:00:00 +0200', '2024-07-01 21:00:00 +0200'),
      hr(58, '2024-07-01 23:00:00 +0200'),
      NIGHT[1],
      NIGHT[0],
    ];
    const s = await sums(mixed.join(''));
    expect(Object.fromEntries(Object.entries(s).filter(([k]) => k.includes('Sleep')))).toEqual(expected);
    // A segment that arrives after the next night has begun still joins its own night.
    const next = sleep(W, '2024-07-02 23:00:00 +0200', '2024-07-03 06:00:00 +0200', 'AsleepCore');
    expect(await sums([NIGHT[0], NIGHT[1], NIGHT[2], next, NIGHT[3]].join(''))).toEqual({
      ...expected,
      [`${SL} 2024-07-02`]: 420,
      [`${V}AsleepCore 2024-07-02`]: 420,
    });
  });

  it('keeps two sources’ nights apart, interleaved, each whole on its own start date', async () => {
    // The watch records stages; a sleep app records the same night as one "Asleep" segment, and
    // the phone its in-bed time. Their records alternate in the file.
    const app = 'AutoSleep';
    const body = [
      sleep(P, '2024-07-01 21:40:00 +0200', '2024-07-02 06:20:00 +0200', 'InBed'),
      NIGHT[1],
      sleep(app, '2024-07-01 22:10:00 +0200', '2024-07-02 00:30:00 +0200', 'Asleep'),
      NIGHT[2],
      sleep(app, '2024-07-02 00:50:00 +0200', '2024-07-02 05:50:00 +0200', 'Asleep'),
      NIGHT[3],
      NIGHT[0],
    ].join('');
    const samples = await parse(body);
    expect(new Set(samples.map((s) => s.localDate))).toEqual(new Set(['2024-07-01']));
    const chunks = chunksOf(samples);
    // Minutes asleep counts the source with the most (the watch's 480 against the app's 440),
    // never the two added up.
    const asleep = chunks.get(`${SL} 2024-07-01`)!;
    expect(asleep.sources.sort()).toEqual([app, W].sort());
    expect(asleep.stats.sum).toBe(480);
    expect(chunks.get(`${V}AsleepUnspecified 2024-07-01`)!.stats.sum).toBe(440);
    expect(chunks.get(`${V}InBed 2024-07-01`)!.stats.sum).toBe(520);
  });

  it('joins a short unrecorded wake, but keeps a nap and a gap of over an hour apart', async () => {
    const body = [
      sleep('AutoSleep', '2024-07-01 23:00:00 +0200', '2024-07-02 00:30:00 +0200', 'Asleep'),
      // 45 min awake that the app did not write down: the same night.
      sleep('AutoSleep', '2024-07-02 01:15:00 +0200', '2024-07-02 06:00:00 +0200', 'Asleep'),
      // An afternoon nap: its own session, on its own date.
      sleep('AutoSleep', '2024-07-02 14:00:00 +0200', '2024-07-02 14:40:00 +0200', 'Asleep'),
      // The next night, then 1 h 30 min later a morning doze: two sessions.
      sleep('AutoSleep', '2024-07-02 23:30:00 +0200', '2024-07-03 05:00:00 +0200', 'Asleep'),
      sleep('AutoSleep', '2024-07-03 06:30:00 +0200', '2024-07-03 07:00:00 +0200', 'Asleep'),
    ].join('');
    const s = await sums(body);
    expect([s[`${SL} 2024-07-01`], s[`${SL} 2024-07-02`], s[`${SL} 2024-07-03`]]).toEqual([375, 40 + 330, 30]);
  });

  it('files nights by the date the source wrote, in any time zone', async () => {
    const body = [
      sleep(W, '2024-07-01 23:30:00 -0700', '2024-07-02 03:00:00 -0700', 'AsleepCore'),
      sleep(W, '2024-07-02 03:00:00 -0700', '2024-07-02 06:30:00 -0700', 'AsleepREM'),
    ].join('');
    expect((await sums(body))[`${SL} 2024-07-01`]).toBe(420);
  });

  it('re-importing the same export, or the same night in another order, adds nothing', async () => {
    const body = [NIGHT[2], hr(60, '2024-07-02 03:00:00 +0200'), NIGHT[0], NIGHT[3], NIGHT[1]].join('');
    const a = chunksOf(await parse(NIGHT.join('')));
    const b = chunksOf(await parse(body));
    expect([...b.keys()].filter((k) => k.includes('Sleep')).sort()).toEqual([...a.keys()].sort());
    for (const [k, c] of a) {
      const m = mergeChunks(c, b.get(k)!);
      expect(m.samples, k).toEqual(c.samples);
      expect(m.stats, k).toEqual(c.stats);
    }
  });
});

describe('SleepNights', () => {
  const H = 3_600_000;
  const T0 = Date.UTC(2024, 0, 1, 22);
  const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const seg = (sourceName: string, startMs: number, endMs: number): SleepSegment => ({
    sourceName,
    stage: `${V}AsleepCore`,
    asleep: true,
    startMs,
    endMs,
    startDate: date(startMs),
  });

  /** Runs segments through SleepNights; returns the date each got, in order of arrival. */
  function run(segs: SleepSegment[], limits = {}) {
    const got = new Map<SleepSegment, string>();
    let maxHeld = 0;
    const nights = new SleepNights((s, d) => {
      if (got.has(s)) throw new Error('a segment was emitted twice');
      got.set(s, d);
    }, limits);
    segs.forEach((s, i) => {
      nights.add(s);
      maxHeld = Math.max(maxHeld, i + 1 - got.size);
    });
    nights.drain();
    expect(got.size).toBe(segs.length);
    return { dates: segs.map((s) => got.get(s)!), maxHeld };
  }

  it('holds a bounded number of segments, whatever the number of nights and sources', () => {
    // 400 nights of 40 ten-minute segments from 3 sources, nights in order, segments of a night reversed.
    const segs: SleepSegment[] = [];
    for (let d = 0; d < 400; d++) {
      for (const src of ['a', 'b', 'c']) {
        for (let k = 39; k >= 0; k--) segs.push(seg(src, T0 + d * 24 * H + k * 600_000, T0 + d * 24 * H + (k + 1) * 600_000));
      }
    }
    const { dates, maxHeld } = run(segs, { segments: 500 });
    expect(maxHeld).toBeLessThanOrEqual(500);
    // Every segment of a night (22:00 UTC to 04:40) is on the night's first date.
    expect(dates).toEqual(segs.map((s) => date(T0 + Math.floor((s.startMs - T0) / (24 * H)) * 24 * H)));
  });

  it('closes the nights a source has not added to for longest, past its limit', () => {
    const segs = Array.from({ length: 20 }, (_, d) => seg('a', T0 + d * 24 * H, T0 + d * 24 * H + H));
    const { maxHeld } = run(segs, { perSource: 3 });
    expect(maxHeld).toBeLessThanOrEqual(3);
  });

  it('lets a night that outgrows the bound go with the date known so far, and still emits each segment once', () => {
    // The night's end arrives first, past the bound, then its start (before midnight).
    const segs = [seg('a', T0 + 3 * H, T0 + 4 * H), seg('a', T0 + 4 * H, T0 + 5 * H), seg('a', T0 + 5 * H, T0 + 6 * H), seg('a', T0, T0 + 3 * H)];
    const { dates } = run(segs, { segments: 2 });
    expect(dates).toEqual([date(T0 + 3 * H), date(T0 + 3 * H), date(T0 + 3 * H), date(T0 + 3 * H)]);
  });

  it('merges two nights that a late segment bridges', () => {
    const segs = [seg('a', T0, T0 + H), seg('a', T0 + 4 * H, T0 + 6 * H), seg('a', T0 + H + NIGHT_GAP_MS / 2, T0 + 4 * H - NIGHT_GAP_MS / 2)];
    expect(run(segs).dates).toEqual([date(T0), date(T0), date(T0)]);
  });

  it('never makes one night of more than a day of back-to-back segments', () => {
    const segs = Array.from({ length: 72 }, (_, h) => seg('a', T0 + h * H, T0 + (h + 1) * H));
    const dates = run(segs).dates;
    expect(new Set(dates).size).toBeGreaterThan(1);
    expect(dates[0]).toBe(date(T0));
    expect(dates[71]).not.toBe(date(T0));
  });
});
