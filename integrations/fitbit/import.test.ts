import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { ImportError, importFitbitArchive, type FitbitImportOptions, type FitbitWarning } from './import.js';
import { HK } from './normalize.js';
import { zonedToUtc, localDateOf } from './time.js';
import { SLEEP_LOG_SAMPLE, writeArchive, type TestEntry } from '../../test-support/integrations/fitbit/archive-writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitbit-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = async (name: string): Promise<unknown> => JSON.parse(await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

interface Collected {
  samples: QuantitySample[];
  records: RecordInput[];
  sampleCalls: number;
}

async function run(name: string, entries: TestEntry[], opts: FitbitImportOptions = {}): Promise<Collected & Awaited<ReturnType<typeof importFitbitArchive>>> {
  const path = await writeArchive(join(dir, name), entries);
  const c: Collected = { samples: [], records: [], sampleCalls: 0 };
  const res = await importFitbitArchive(
    path,
    {
      samples: (b) => {
        c.sampleCalls += 1;
        c.samples.push(...b);
      },
      records: (b) => {
        c.records.push(...b);
      },
    },
    opts,
  );
  return { ...c, ...res };
}

/**
 * Daily statistics as the day-chunk store computes them: exact duplicates (start, end, value,
 * sourceName) once; for steps, the single source with the largest sum.
 */
function daily(samples: QuantitySample[], type: string): Record<string, { count: number; sum: number; min: number; max: number }> {
  const seen = new Set<string>();
  const byDay = new Map<string, QuantitySample[]>();
  for (const s of samples) {
    if (s.type !== type) continue;
    const k = `${s.localDate}|${s.startMs}|${s.endMs}|${s.value}|${s.sourceName}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const arr = byDay.get(s.localDate) ?? [];
    arr.push(s);
    byDay.set(s.localDate, arr);
  }
  const out: Record<string, { count: number; sum: number; min: number; max: number }> = {};
  for (const [day, arr0] of byDay) {
    let arr = arr0;
    if (type === HK.steps) {
      const sums = new Map<string, number>();
      for (const s of arr) sums.set(s.sourceName, (sums.get(s.sourceName) ?? 0) + s.value);
      const best = [...sums.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      arr = arr.filter((s) => s.sourceName === best);
    }
    const vals = arr.map((s) => s.value);
    out[day] = { count: vals.length, sum: Math.round(vals.reduce((a, b) => a + b, 0) * 1000) / 1000, min: Math.min(...vals), max: Math.max(...vals) };
  }
  return out;
}

// --- content builders in the shapes FINDINGS.md documents ---------------------------------

const json = (v: unknown): string => JSON.stringify(v, null, 2).replace(/": /g, '" : ');

/** heart_rate JSON for local day 2016-06-01 in UTC+10: runs 05/31 14:00Z .. 06/01 13:59:50Z. */
const hrJsonAest = json([
  { dateTime: '05/31/16 14:00:00', value: { bpm: 52, confidence: 3 } },
  { dateTime: '05/31/16 23:59:50', value: { bpm: 60, confidence: 2 } },
  { dateTime: '06/01/16 00:00:10', value: { bpm: 70, confidence: 2 } },
  { dateTime: '06/01/16 13:59:50', value: { bpm: 58, confidence: 3 } },
]);

const weightJson = json([
  { logId: 1516751999000, weight: 199.0, bmi: 28.82, fat: 24.5, date: '01/23/18', time: '23:59:59', source: 'Aria' },
  { logId: 1516838399000, weight: 198.0, bmi: 28.7, date: '01/24/18', time: '07:00:00', source: 'API' },
]);

const stepsJson = json([
  { dateTime: '04/01/18 05:13:00', value: '14' },
  { dateTime: '04/01/18 05:14:00', value: '0' },
  { dateTime: '04/01/18 05:15:00', value: '20' },
]);

const rhrJson = json([
  { dateTime: '05/16/18 00:00:00', value: { date: '05/16/18', value: 69.832, error: 6.93 } },
  { dateTime: '05/17/18 00:00:00', value: { date: null, value: 0.0, error: 0.0 } },
]);

function layoutEntries(root: string, activity: string, sleepDir: string): TestEntry[] {
  return [
    { name: `${root}${activity}heart_rate-2016-06-01.json`, data: hrJsonAest },
    { name: `${root}${activity}steps-2018-04-01.json`, data: stepsJson },
    { name: `${root}${activity}resting_heart_rate-2018-01-01.json`, data: rhrJson },
    { name: `${root}${sleepDir}weight-2018-01-01.json`, data: weightJson },
  ];
}

describe('layouts', () => {
  const cases: Array<[string, string, string, string, string]> = [
    ['user-site-export', 'user-site-export/', 'heart_rate/', 'weight/', 'user-site-export'],
    ['myfitbitdata', 'MyFitbitData/JaneDoe/', 'Physical Activity/', 'Personal & Account/', 'myfitbitdata'],
    ['takeout fitbit', 'Takeout/Fitbit/', 'Global Export Data/', 'Global Export Data/', 'takeout-fitbit'],
    ['takeout google health', 'Takeout/Google Health/', 'Global Export Data/', 'Global Export Data/', 'takeout-google-health'],
  ];
  for (const ext of ['zip', 'tgz']) {
    for (const [label, root, act, other, layout] of cases) {
      it(`reads the ${label} layout (${ext})`, async () => {
        // Older exports have one folder per stream; the name carries the family either way.
        const entries = layoutEntries(root, act, other).map((e) =>
          root === 'user-site-export/'
            ? { ...e, name: e.name.replace('heart_rate/steps-', 'steps/steps-').replace('heart_rate/resting_', 'resting_heart_rate/resting_') }
            : e,
        );
        const r = await run(`${label.replace(/ /g, '-')}.${ext}`, [{ name: root }, ...entries], { timezone: 'Australia/Brisbane' });
        expect(r.layout).toBe(layout);
        expect(r.counts[HK.heartRate]).toBe(4);
        expect(r.counts[HK.steps]).toBe(2);
        expect(r.counts[HK.restingHeartRate]).toBe(1);
        expect(r.counts[HK.bodyMass]).toBe(2);
        expect(r.unknownFiles).toEqual([]);
        expect(daily(r.samples, HK.heartRate)).toEqual({ '2016-06-01': { count: 4, sum: 240, min: 52, max: 70 } });
      });
    }
  }
});

describe('time zones', () => {
  it('keeps a UTC intraday heart_rate JSON file on its local day', async () => {
    const r = await run('hr-utc.zip', [{ name: 'Takeout/Fitbit/Global Export Data/heart_rate-2016-06-01.json', data: hrJsonAest }], {
      timezone: 'Australia/Brisbane',
    });
    const hr = r.samples.filter((s) => s.type === HK.heartRate);
    expect(hr.map((s) => s.localDate)).toEqual(['2016-06-01', '2016-06-01', '2016-06-01', '2016-06-01']);
    expect(hr[0]!.startMs).toBe(Date.UTC(2016, 4, 31, 14, 0, 0));
    expect(hr[0]!.unit).toBe('/min');
    // Without a zone the file's own date still decides the day; a warning says no zone was given.
    const r2 = await run('hr-utc-notz.zip', [{ name: 'Takeout/Fitbit/Global Export Data/heart_rate-2016-06-01.json', data: hrJsonAest }]);
    expect(new Set(r2.samples.map((s) => s.localDate))).toEqual(new Set(['2016-06-01']));
    expect(r2.warnings.some((w) => w.code === 'no_time_zone' && /No time zone was given/.test(w.message))).toBe(true);
  });

  it('puts 23:30 local in America/New_York on the local date (CSV Z, sleep and weight naive)', async () => {
    const r = await run(
      'ny.tgz',
      [
        {
          name: 'Takeout/Fitbit/Physical Activity_GoogleData/steps_2024-03-01.csv',
          data: 'timestamp,steps,data source\n2024-03-10T04:30:00Z,40,Charge 6\n2024-03-10T05:30:00Z,10,Charge 6\n',
        },
        { name: 'Takeout/Fitbit/Global Export Data/sleep-2024-03-09.json', data: json([SLEEP_LOG_SAMPLE]) },
        { name: 'Takeout/Fitbit/Global Export Data/weight-2024-03-01.json', data: json([{ logId: 1, weight: 150, date: '03/09/24', time: '23:30:00' }]) },
      ],
      { timezone: 'America/New_York' },
    );
    const steps = daily(r.samples, HK.steps);
    expect(steps).toEqual({ '2024-03-09': { count: 1, sum: 40, min: 40, max: 40 }, '2024-03-10': { count: 1, sum: 10, min: 10, max: 10 } });
    const sleep = r.samples.find((s) => s.type === HK.sleep)!;
    expect(sleep).toMatchObject({ localDate: '2024-03-09', value: 420, unit: 'min', startMs: Date.UTC(2024, 2, 10, 4, 30) });
    // 07:00 on 2024-03-10 is after the spring-forward change: EDT, UTC-4.
    expect(sleep.endMs).toBe(Date.UTC(2024, 2, 10, 11, 0));
    // levels.summary: minutes per stage, on the night's local date ("light" is Apple's "core").
    const stages = Object.fromEntries(
      r.samples.filter((s) => s.type.startsWith('HKCategoryValueSleepAnalysis')).map((s) => [s.type, [s.localDate, s.value, s.unit]]),
    );
    expect(stages).toEqual({
      HKCategoryValueSleepAnalysisAsleepDeep: ['2024-03-09', 80, 'min'],
      HKCategoryValueSleepAnalysisAsleepCore: ['2024-03-09', 250, 'min'],
      HKCategoryValueSleepAnalysisAsleepREM: ['2024-03-09', 90, 'min'],
      HKCategoryValueSleepAnalysisAwake: ['2024-03-09', 30, 'min'],
    });
    const w = r.samples.find((s) => s.type === HK.bodyMass)!;
    expect(w).toMatchObject({ localDate: '2024-03-09', startMs: Date.UTC(2024, 2, 10, 4, 30), value: 68.039, sourceName: 'Fitbit' });
    const rec = r.records.find((x) => x.type === HK.sleep)!;
    expect(rec.title).toBe('Sleep 7 h (23:30–07:00)');
    expect(rec.text).toContain('deep 1 h 20 min');
    expect(r.warnings.some((x) => x.code === 'no_time_zone')).toBe(false);
  });

  it('rejects an unknown time zone name', async () => {
    const path = await writeArchive(join(dir, 'badtz.zip'), [{ name: 'user-site-export/heart_rate/heart_rate-2016-06-01.json', data: hrJsonAest }]);
    await expect(importFitbitArchive(path, { samples() {}, records() {} }, { timezone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'bad_timezone' });
  });

  it('converts naive local times across DST with Intl only', () => {
    expect(zonedToUtc(2024, 11, 3, 1, 30, 0, 0, 'America/New_York')).toBe(Date.UTC(2024, 10, 3, 5, 30)); // first 01:30 (EDT)
    expect(zonedToUtc(2024, 3, 10, 2, 30, 0, 0, 'America/New_York')).toBe(Date.UTC(2024, 2, 10, 7, 30)); // gap -> 03:30 EDT
    expect(localDateOf(Date.UTC(2024, 0, 1, 4, 59), 'America/New_York')).toBe('2023-12-31');
    expect(localDateOf(Date.UTC(2024, 0, 1, 13, 0), 'Pacific/Auckland')).toBe('2024-01-02');
  });
});

describe('repeated streams', () => {
  it('prefers the CSV copy of heart rate over the JSON copy, keeping JSON outside the CSV span', async () => {
    // Local day 2024-10-27 in Australia/Sydney (UTC+11): JSON runs 10-26 13:00Z .. 10-27 12:59Z.
    const hrJson = json([
      { dateTime: '10/26/24 13:00:05', value: { bpm: 50, confidence: 3 } }, // not in any CSV: kept
      { dateTime: '10/27/24 00:00:04', value: { bpm: 65, confidence: 3 } }, // same as CSV
      { dateTime: '10/27/24 00:00:09', value: { bpm: 66, confidence: 3 } }, // same as CSV
    ]);
    const hrCsv = 'timestamp,beats per minute,data source\n2024-10-27T00:00:04Z,65.0,Charge 5\n2024-10-27T00:00:09Z,66.0,Charge 5\n';
    for (const ext of ['zip', 'tgz']) {
      // JSON first in the archive: order must not matter.
      const r = await run(
        `hr-dupe.${ext}`,
        [
          { name: 'Takeout/Fitbit/Global Export Data/heart_rate-2024-10-27.json', data: hrJson },
          { name: 'Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_2024-10-27.csv', data: hrCsv },
          { name: 'Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_readme.txt', data: 'readme' },
        ],
        { timezone: 'Australia/Sydney' },
      );
      expect(r.counts[HK.heartRate]).toBe(3);
      expect(daily(r.samples, HK.heartRate)).toEqual({ '2024-10-27': { count: 3, sum: 181, min: 50, max: 66 } });
      expect(r.samples.filter((s) => s.sourceName === 'Charge 5')).toHaveLength(2);
      expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'duplicates_skipped', count: 2 }));
      expect(r.unknownFiles).toEqual([]);
    }
  });

  it('does not double count steps from two devices or from JSON + CSV', async () => {
    const csv = [
      'timestamp,steps,data source',
      '2024-05-01T10:00:00Z,100,Charge 6',
      '2024-05-01T10:00:00Z,90,Pixel 8',
      '2024-05-01T10:01:00Z,100,Charge 6',
      '2024-05-01T10:01:00Z,95,Pixel 8',
      '2024-05-01T10:02:00Z,0,Charge 6',
    ].join('\n');
    const stepsJ = json([
      { dateTime: '05/01/24 10:00:00', value: '100' },
      { dateTime: '05/01/24 10:01:00', value: '100' },
    ]);
    const r = await run(
      'steps-2dev.zip',
      [
        { name: 'Takeout/Google Health/Global Export Data/steps-2024-05-01.json', data: stepsJ },
        { name: 'Takeout/Google Health/Physical Activity_GoogleData/steps_2024-05-01.csv', data: csv },
        // Multi-part Takeouts repeat files: the same CSV again must change nothing downstream.
        { name: 'Takeout/Google Health/Physical Activity_GoogleData/Steps/steps_2024-05-01.csv', data: csv },
      ],
      { timezone: 'Europe/Paris' },
    );
    expect(daily(r.samples, HK.steps)).toEqual({ '2024-05-01': { count: 2, sum: 200, min: 100, max: 100 } });
    expect(r.samples.filter((s) => s.sourceName === 'Fitbit' && s.type === HK.steps)).toHaveLength(0);
    expect(r.samples[0]!.endMs - r.samples[0]!.startMs).toBe(60_000);
  });

  it('prefers weight.csv (grams) over the weight JSON (pounds) on the same day, and converts lbs', async () => {
    const r = await run(
      'weight.tgz',
      [
        { name: 'Takeout/Fitbit/Global Export Data/weight-2018-01-01.json', data: weightJson },
        { name: 'Takeout/Fitbit/Physical Activity_GoogleData/weight.csv', data: 'timestamp,weight grams,data source\n2018-01-24T12:00:00Z,89811.0,Aria Air\n' },
      ],
      { timezone: 'UTC' },
    );
    expect(daily(r.samples, HK.bodyMass)).toEqual({
      '2018-01-23': { count: 1, sum: 90.265, min: 90.265, max: 90.265 }, // 199 lb
      '2018-01-24': { count: 1, sum: 89.811, min: 89.811, max: 89.811 }, // CSV, JSON 198 lb skipped
    });
    const j = r.samples.find((s) => s.localDate === '2018-01-23')!;
    expect(j).toMatchObject({ unit: 'kg', sourceName: 'Aria' });
    // A BMI of 28.8 beside 199 fits pounds only (199 kg would take a height of 2.63 m).
    expect(r.warnings.some((w) => w.code === 'weight_read_as_pounds')).toBe(false);
    const kg = await run('weight-kg.zip', [{ name: 'user-site-export/weight/weight-2018-01-01.json', data: weightJson }], { weightUnit: 'kg' });
    expect(kg.samples.map((s) => s.value)).toEqual([199, 198]);
  });

  it("tells each weight file's unit by its BMI, else reads pounds and says so", async () => {
    const file = (name: string, rows: unknown[]) => ({ name: `user-site-export/weight/${name}`, data: json(rows) });
    const entry = (date: string, weight: number, bmi?: number) => ({ date, time: '08:00:00', weight, ...(bmi === undefined ? {} : { bmi }) });
    const values = (r: Collected) => Object.fromEntries(r.samples.map((s) => [s.localDate, s.value]));
    const poundsWarned = (r: { warnings: FitbitWarning[] }) => r.warnings.find((w) => w.code === 'weight_read_as_pounds')?.count ?? 0;

    // The real sample (kilograms, BMI about 21.5): 56.7 lb would take a height of 1.09 m.
    const real = (await fixture('fitbit-body-log-weight.json')) as { weight: unknown[] };
    const metric = await run('weight-metric.zip', [file('weight-2015-05-13.json', real.weight)], { timezone: 'UTC' });
    expect(values(metric)).toEqual({ '2015-05-13': 56.7, '2015-05-14': 55.9, '2015-05-22': 58.1, '2015-05-24': 57.2 });
    expect(poundsWarned(metric)).toBe(0);

    // 90 kg at BMI 26 is 1.86 m, and 90 lb at BMI 26 is 1.25 m: either could be; without a BMI nothing tells.
    const unsure = await run('weight-unsure.zip', [
      file('weight-2024-01-01.json', [entry('2024-01-01', 90, 26)]),
      file('weight-2024-02-01.json', [entry('2024-02-01', 150)]),
    ]);
    expect(values(unsure)).toEqual({ '2024-01-01': 40.823, '2024-02-01': 68.039 });
    expect(poundsWarned(unsure)).toBe(2);
    expect(unsure.warnings.find((w) => w.code === 'weight_read_as_pounds')?.message).toMatch(/weightUnit field set to kg/);

    // A file whose BMI proves kilograms (70 lb at BMI 22.9 would be 1.18 m) decides for the
    // others, whichever order the archive holds them in, and says so.
    for (const order of [0, 1]) {
      const files = [
        file('weight-2024-01-01.json', [entry('2024-01-01', 90, 26)]),
        file('weight-2024-02-01.json', [entry('2024-02-01', 150)]),
        file('weight-2024-03-01.json', [entry('2024-03-01', 70, 22.9), entry('2024-03-02', 70.4)]),
      ];
      const proved = await run(`weight-proved-${order}.zip`, order ? files.reverse() : files);
      expect(values(proved)).toEqual({ '2024-01-01': 90, '2024-02-01': 150, '2024-03-01': 70, '2024-03-02': 70.4 });
      expect(poundsWarned(proved)).toBe(0);
      expect(proved.warnings.find((w) => w.code === 'weight_unit_from_archive')).toMatchObject({ count: 2, message: expect.stringMatching(/kilograms/) });
    }

    // Files that prove different units leave each other alone.
    const mixed = await run('weight-mixed.zip', [
      file('weight-2018-01-01.json', [entry('2018-01-01', 199, 28.82)]),
      file('weight-2024-02-01.json', [entry('2024-02-01', 150)]),
      file('weight-2024-03-01.json', [entry('2024-03-01', 70, 22.9)]),
    ]);
    expect(values(mixed)).toEqual({ '2018-01-01': 90.265, '2024-02-01': 68.039, '2024-03-01': 70 });
    expect(poundsWarned(mixed)).toBe(1);

    // What the person says wins over the BMI, and leaves nothing to warn about.
    const told = await run('weight-told.zip', [file('weight-2015-05-13.json', real.weight), file('weight-2024-02-01.json', [entry('2024-02-01', 150)])], {
      weightUnit: 'lb',
    });
    expect(told.samples.map((s) => s.value)).toEqual([25.719, 25.356, 26.354, 25.945, 68.039]);
    expect(poundsWarned(told)).toBe(0);
  });

  it('keeps resting heart rate from CSV as a date label and drops empty JSON days', async () => {
    const r = await run(
      'rhr.zip',
      [
        { name: 'MyFitbitData/Jo/Heart/resting_heart_rate-2018-01-01.json', data: rhrJson },
        {
          name: 'Takeout/Fitbit/Physical Activity_GoogleData/daily_resting_heart_rate.csv',
          data: 'timestamp,beats per minute,data source\n2024-01-01T00:00:00Z,58.0,Charge 6\n',
        },
      ],
      { timezone: 'America/Los_Angeles' },
    );
    expect(daily(r.samples, HK.restingHeartRate)).toEqual({
      '2018-05-16': { count: 1, sum: 69.83, min: 69.83, max: 69.83 },
      '2024-01-01': { count: 1, sum: 58, min: 58, max: 58 },
    });
  });

  it('skips UserSleeps rows the sleep JSON already had', async () => {
    const sleeps = [
      'sleep_id,sleep_start,sleep_end,start_utc_offset,end_utc_offset,minutes_asleep',
      '1,2024-03-10T04:30:00Z,2024-03-10T11:00:00Z,-05:00,-04:00,400', // same night as the JSON
      '2,2024-03-11T03:00:00Z,2024-03-11T10:00:00Z,-04:00,-04:00,380',
    ].join('\n');
    const r = await run(
      'sleeps.zip',
      [
        { name: 'Takeout/Fitbit/Sleep/UserSleeps_2024-03-01.csv', data: sleeps },
        {
          name: 'Takeout/Fitbit/Global Export Data/sleep-2024-03-09.json',
          data: json([{ logId: 9, startTime: '2024-03-09T23:30:00.000', endTime: '2024-03-10T07:00:00.000', minutesAsleep: 420, type: 'classic' }]),
        },
      ],
      { timezone: 'America/New_York' },
    );
    expect(daily(r.samples, HK.sleep)).toEqual({
      '2024-03-09': { count: 1, sum: 420, min: 420, max: 420 },
      '2024-03-10': { count: 1, sum: 380, min: 380, max: 380 },
    });
    expect(r.records.filter((x) => x.type === HK.sleep)).toHaveLength(2);
  });
});

describe('records and fixtures', () => {
  it('imports the shimmer sleep sample as sessions and records', async () => {
    const f = (await fixture('fitbit-sleep-date.json')) as { sleep: unknown[] };
    const r = await run('shimmer-sleep.zip', [{ name: 'user-site-export/sleep/sleep-2016-12-13.json', data: JSON.stringify(f.sleep) }], {
      timezone: 'America/Chicago',
    });
    expect(daily(r.samples, HK.sleep)).toEqual({ '2016-12-13': { count: 2, sum: 175, min: 63, max: 112 } });
    expect(r.counts[`record:${HK.sleep}`]).toBe(2);
    const main = r.records.find((x) => x.externalId === 'fitbit:sleep/13211507000')!;
    expect(main).toMatchObject({ kind: 'record', source: 'fitbit', occurredAt: '2016-12-13T07:16:00.000Z' });
    expect(main.title).toBe('Sleep 1 h 52 min (01:16–03:14)');
    expect(main.text).toMatch(/main sleep.*Awake 6 min.*Efficiency 95%/);
  });

  it('turns exercise-N.json into workout records without step samples', async () => {
    const r = await run(
      'exercise.zip',
      [
        {
          name: 'MyFitbitData/Jo/Physical Activity/exercise-0.json',
          data: json([
            {
              logId: 42,
              activityName: 'Walk',
              startTime: '01/06/23 01:08:57',
              originalStartTime: '2023-01-06T12:08:57.000+11:00',
              duration: 1800000,
              activeDuration: 1800000,
              steps: 3100,
              calories: 140,
              averageHeartRate: 98,
              logType: 'auto_detected',
              source: { name: 'Charge 5' },
            },
            { logId: 43, activityName: 'Yoga', startTime: '01/07/23 20:00:00', duration: 3600000 },
          ]),
        },
      ],
      { timezone: 'Australia/Sydney' },
    );
    expect(r.samples).toHaveLength(0);
    expect(r.records.map((x) => [x.type, x.title, x.occurredAt])).toEqual([
      ['HKWorkoutActivityTypeWalking', 'Walk, 30 min', '2023-01-06T01:08:57.000Z'],
      ['HKWorkoutActivityTypeYoga', 'Yoga, 1 h', '2023-01-07T20:00:00.000Z'],
    ]);
    expect(r.records[0]!.text).toBe(
      'Walk on 2023-01-06 at 12:08 (local time): lasted 30 min, 3100 steps, 140 kcal, average heart rate 98 bpm. Recorded by Charge 5 (auto detected).',
    );
    expect(r.records[1]!.text).toContain('on 2023-01-08 at 07:00');
  });
});

describe('unknown files, batching, progress', () => {
  it('reports unknown files instead of dropping them silently', async () => {
    const r = await run('unknown.zip', [
      { name: 'Takeout/Fitbit/Global Export Data/heart_rate-2016-06-01.json', data: hrJsonAest },
      { name: 'Takeout/Fitbit/Global Export Data/distance-2016-06-01.json', data: '[]' },
      { name: 'Takeout/Fitbit/Temperature/Device Temperature - 2024-01-01.csv', data: 'a,b\n' },
      { name: 'Takeout/Fitbit/Global Export Data/Global Export Data_readme.txt', data: 'x' },
    ]);
    expect(r.unknownFiles).toEqual([
      'Takeout/Fitbit/Global Export Data/distance-2016-06-01.json',
      'Takeout/Fitbit/Temperature/Device Temperature - 2024-01-01.csv',
    ]);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'unknown_files', count: 2 }));
  });

  it('warns about a malformed JSON file and carries on', async () => {
    const r = await run('malformed.zip', [
      { name: 'user-site-export/heart_rate/heart_rate-2016-06-01.json', data: hrJsonAest },
      { name: 'user-site-export/steps/steps-2018-04-01.json', data: '[{"dateTime" : ' },
    ]);
    expect(r.counts[HK.heartRate]).toBe(4);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'unreadable_files', count: 1 }));
    // Results carry fixed sentences: no file name.
    expect(JSON.stringify(r.warnings)).not.toMatch(/steps-2018-04-01/);
  });

  it('batches, awaits the sink one call at a time, and reports progress', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `2024-01-01T00:${String(i).padStart(2, '0')}:00Z,${60 + i},Charge 6`);
    const path = await writeArchive(join(dir, 'batch.tgz'), [
      { name: 'Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_2024-01-01.csv', data: `timestamp,beats per minute,data source\n${rows.join('\n')}\n` },
      { name: 'Takeout/Fitbit/Global Export Data/heart_rate-2016-06-01.json', data: hrJsonAest },
    ]);
    let inFlight = 0;
    let maxInFlight = 0;
    const sizes: number[] = [];
    const progress: number[] = [];
    const res = await importFitbitArchive(
      path,
      {
        samples: async (b) => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          sizes.push(b.length);
          await new Promise((r) => setTimeout(r, 5));
          inFlight -= 1;
        },
        records: () => {},
      },
      { batchSize: 10, timezone: 'UTC', onProgress: (p) => progress.push(p.done) },
    );
    expect(sizes).toEqual([10, 10, 9]);
    expect(maxInFlight).toBe(1);
    expect(res.counts[HK.heartRate]).toBe(29);
    expect(progress.at(-1)).toBe(2);
  });

  it('stops when the signal aborts', async () => {
    const path = await writeArchive(join(dir, 'abort.zip'), [{ name: 'user-site-export/heart_rate/heart_rate-2016-06-01.json', data: hrJsonAest }]);
    const ac = new AbortController();
    ac.abort();
    await expect(importFitbitArchive(path, { samples() {}, records() {} }, { signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('unsafe or foreign archives', () => {
  const expectCode = async (name: string, entries: TestEntry[], code: string, opts: FitbitImportOptions = {}): Promise<void> => {
    const path = await writeArchive(join(dir, name), entries);
    const p = importFitbitArchive(path, { samples() {}, records() {} }, opts);
    await expect(p).rejects.toBeInstanceOf(ImportError);
    await expect(p).rejects.toMatchObject({ code });
  };
  const ok = { name: 'user-site-export/heart_rate/heart_rate-2016-06-01.json', data: hrJsonAest };

  for (const ext of ['zip', 'tgz']) {
    it(`rejects .. paths (${ext})`, async () => {
      await expectCode(`dotdot.${ext}`, [ok, { name: 'user-site-export/../../evil.json', data: '[]' }], 'unsafe_entry');
    });
    it(`rejects absolute paths (${ext})`, async () => {
      await expectCode(`abs.${ext}`, [{ name: '/etc/cron.d/x', data: 'x' }, ok], 'unsafe_entry');
    });
    it(`rejects symlinks (${ext})`, async () => {
      await expectCode(`link.${ext}`, [ok, { name: 'user-site-export/steps/steps-2018-04-01.json', data: '/etc/passwd', symlink: true }], 'unsafe_entry');
    });
    it(`rejects too many entries (${ext})`, async () => {
      await expectCode(`many.${ext}`, [ok, ok, ok, ok], 'too_many_entries', { limits: { maxEntries: 3 } });
    });
    it(`rejects a compression bomb (${ext})`, async () => {
      await expectCode(
        `bomb.${ext}`,
        [{ name: 'user-site-export/steps/steps-2018-04-01.json', data: Buffer.alloc(20 * 1024 * 1024, 0x20) }],
        'suspicious_compression',
      );
    });
    it(`rejects more than the uncompressed total cap (${ext})`, async () => {
      await expectCode(`total.${ext}`, [ok, ok], 'too_large', { limits: { maxTotalBytes: 400 } });
    });
    it(`rejects an archive with no Fitbit files (${ext})`, async () => {
      await expectCode(`foreign.${ext}`, [{ name: 'photos/cat.jpg', data: 'meow' }], 'not_fitbit');
    });
  }

  it('rejects a zip that lies about its sizes', async () => {
    // A deflated entry whose central directory claims 10 bytes but inflates to 5 MB.
    const { buildZip } = await import('../../test-support/integrations/fitbit/archive-writer.js');
    const buf = buildZip([{ name: 'user-site-export/steps/steps-2018-04-01.json', data: Buffer.alloc(5 * 1024 * 1024, 0x20) }]);
    const cdAt = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(10, cdAt + 24);
    buf.writeUInt32LE(10, 22);
    const path = join(dir, 'liar.zip');
    await writeFile(path, buf);
    // Declared 10 bytes cannot trip the ratio check; the real inflated bytes must.
    await expect(importFitbitArchive(path, { samples() {}, records() {} })).rejects.toMatchObject({ code: 'corrupt_archive' });
  });

  it('rejects a file that is not an archive', async () => {
    const path = join(dir, 'plain.zip');
    await writeFile(path, 'hello, not a zip');
    await expect(importFitbitArchive(path, { samples() {}, records() {} })).rejects.toMatchObject({ code: 'unsupported_archive' });
  });

  it('rejects a truncated archive as damaged', async () => {
    const { buildTgz } = await import('../../test-support/integrations/fitbit/archive-writer.js');
    const buf = await buildTgz([ok]);
    const path = join(dir, 'trunc.tgz');
    await writeFile(path, buf.subarray(0, Math.floor(buf.length / 2)));
    await expect(importFitbitArchive(path, { samples() {}, records() {} })).rejects.toMatchObject({ code: 'corrupt_archive' });
  });
});
