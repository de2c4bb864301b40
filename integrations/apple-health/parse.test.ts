import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { mergeChunks, type DayChunk } from '../series/day-chunk.js';
import { CategoryDays, type CategoryEntry } from './build.js';
import { appleDateToIso, parseAppleDate } from './dates.js';
import { ImportError } from './errors.js';
import { createSeriesSink, importAppleHealth } from './import.js';
import { checkDoctype, parseExportXml, stripControlChars, type AppleHealthSink } from './parse.js';
import { APPLE_DTD, exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-ah-parse-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function collector(): AppleHealthSink & { s: QuantitySample[]; r: RecordInput[] } {
  const s: QuantitySample[] = [];
  const r: RecordInput[] = [];
  return { s, r, samples: (b) => void s.push(...b), records: (b) => void r.push(...b) };
}

let n = 0;
async function importXml(xml: string | Buffer) {
  const path = join(dir, `e${n++}.xml`);
  await writeFile(path, xml);
  const sink = collector();
  const res = await importAppleHealth({ xmlPath: path }, sink);
  return { ...res, samples: sink.s, records: sink.r };
}

/** Imports through the chunking sink with a tiny memory bound, merging re-emitted days like the store does. */
async function importChunks(xml: string): Promise<Map<string, DayChunk>> {
  const path = join(dir, `c${n++}.xml`);
  await writeFile(path, xml);
  const out = new Map<string, DayChunk>();
  const sink = createSeriesSink(
    {
      chunks(batch) {
        for (const c of batch) {
          const k = `${c.type} ${c.date}`;
          const prev = out.get(k);
          out.set(k, prev ? mergeChunks(prev, c) : c);
        }
      },
      records() {},
    },
    { maxOpenChunks: 2 },
  );
  await importAppleHealth({ xmlPath: path }, sink);
  await sink.finish();
  return out;
}

async function refusal(xml: string | Buffer): Promise<ImportError> {
  try {
    await importXml(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return e as ImportError;
  }
  throw new Error('expected the import to be refused');
}

describe('Apple dates', () => {
  it('parses the fixed format with its offset', () => {
    expect(parseAppleDate('2026-06-01 00:30:05 +0100')).toBe(Date.UTC(2026, 4, 31, 23, 30, 5));
    expect(parseAppleDate('2020-12-06 20:24:55 -0800')).toBe(Date.parse('2020-12-07T04:24:55Z'));
    // The ISO form tools rewrite exports in: a day that does not exist is not rolled into March.
    expect(parseAppleDate('2026-02-28T10:00:00Z')).toBe(Date.UTC(2026, 1, 28, 10));
    expect(parseAppleDate('2026-02-31T10:00:00Z')).toBeNaN();
    expect(parseAppleDate('2026-03-01T24:30:00+01:00')).toBeNaN();
    expect(parseAppleDate('2024-02-29 12:00:00 +0530')).toBe(Date.parse('2024-02-29T06:30:00Z'));
    expect(parseAppleDate('2026-06-01T00:30:05+01:00')).toBe(Date.UTC(2026, 4, 31, 23, 30, 5));
    // Tools that rewrite an export put a colon in the offset.
    expect(parseAppleDate('2026-06-01 00:30:05 +01:00')).toBe(Date.UTC(2026, 4, 31, 23, 30, 5));
    expect(parseAppleDate('2020-12-06 20:24:55 -08:00')).toBe(Date.parse('2020-12-07T04:24:55Z'));
    expect(appleDateToIso('2026-06-01 00:30:05 +01:00')).toBe('2026-06-01T00:30:05+01:00');
    for (const bad of [
      '2026-13-01 00:00:00 +0100',
      '2025-02-29 00:00:00 +0000',
      '2026-06-01 24:00:00 +0000',
      '2026-06-01 00:00:00 0100',
      'x026-06-01 00:00:00 +0000',
      '',
      '2026-06-01',
      // No offset: a wall time that names no instant.
      '2026-06-01 00:30:05',
      '2026-06-01T00:30:05',
      '2026-06-01 00:30:05 +01:0',
      '2026-06-01 00:30:05 +0:100',
      '2026-06-01 00:30:05 01:00',
      '2026-02-30 00:30:05 +01:00',
    ]) {
      expect(parseAppleDate(bad), bad).toBeNaN();
    }
    expect(appleDateToIso('2026-06-01 00:30:05 +0100')).toBe('2026-06-01T00:30:05+01:00');
  });
});

describe('real sample exports (opendroid/hk)', () => {
  it('sampleexport.xml: 5 records, 1 workout, 17 activity summaries, 6 clinical records', async () => {
    const sink = collector();
    const res = await importAppleHealth({ xmlPath: join(FIXTURES, 'opendroid-hk_sampleexport.xml') }, sink);
    expect(res.counts).toMatchObject({
      Record: 5,
      Workout: 1,
      ActivitySummary: 17,
      ClinicalRecord: 6,
      Me: 1,
      samples: 5,
      clinicalMissing: 6,
      records: 1 + 1 + 17 + 6,
    });
    expect(res.exportDate).toBe('2020-12-06 20:24:55 -0800');
    expect(res.locale).toBe('en_US');
    expect(sink.s.map((x) => x.type)).toEqual([...Array(4).fill('HKQuantityTypeIdentifierBodyMassIndex'), 'HKQuantityTypeIdentifierHeartRateVariabilitySDNN']);
    expect(sink.s[0]).toEqual({
      type: 'HKQuantityTypeIdentifierBodyMassIndex',
      unit: 'count',
      startMs: Date.parse('2020-04-18T13:52:26Z'),
      endMs: Date.parse('2020-04-18T13:52:26Z'),
      localDate: '2020-04-18',
      value: 22.4,
      sourceName: 'Renpho',
    });
    const workout = sink.r.find((r) => r.type === 'HKWorkoutActivityTypeWalking')!;
    expect(workout.title).toBe('Walking 3.0 mi, 53 min');
    expect(workout.occurredAt).toBe('2018-12-17T07:54:59-08:00');
    expect((workout.data.events as unknown[]).length).toBe(8);
    expect((workout.data.routes as Array<{ files: string[] }>)[0]!.files).toEqual(['/workout-routes/route_2020-12-06_3.02pm.gpx']);
    const day = sink.r.find((r) => r.externalId === 'ActivitySummary/2020-11-20')!;
    expect(day.title).toBe('Activity 2020-11-20: move 487/300 kcal, exercise 74/30 min, stand 16/11 h');
    const missing = sink.r.filter((r) => r.tags.includes('missing'));
    expect(missing.map((r) => r.type)).toEqual([
      'fhir:Procedure',
      'fhir:Procedure',
      'fhir:Procedure',
      'fhir:Immunization',
      'fhir:DiagnosticReport',
      'fhir:Patient',
    ]);
    expect(missing[0]!.externalId).toBe('Procedure/TkxvzAawHeQb3Fi8PI60qLcpVWSuan8Gk1dSZsdZkm.YB');
    expect(sink.r.find((r) => r.type === 'HKCharacteristics')!.text).toContain('date of birth 1990-12-06');
    for (const r of sink.r) expect(r.source).toBe('apple_health');
  });

  it('sampleexport-2.xml: 37 records (36 quantity, 1 stand hour), 5 workouts, 1 audiogram', async () => {
    const sink = collector();
    const res = await importAppleHealth({ xmlPath: join(FIXTURES, 'opendroid-hk_sampleexport-2.xml') }, sink);
    expect(res.counts).toMatchObject({ Record: 37, Workout: 5, Audiogram: 1, Me: 1, samples: 36, categoryRecords: 1, records: 1 + 5 + 1 + 1 });
    expect(res.counts.ActivitySummary).toBeUndefined();
    expect(sink.r.filter((r) => r.tags.includes('workout')).map((r) => r.title)).toEqual([
      'Walking 2.2 mi, 38 min',
      'Walking, 30 min',
      'Cross training, 30 min',
      'Walking, 20 min',
      'Walking 7.8 mi, 205 min',
    ]);
    // Apple's fractions become UCUM percentages; Apple's units become UCUM.
    const fat = sink.s.find((x) => x.type === 'HKQuantityTypeIdentifierBodyFatPercentage')!;
    expect(fat).toMatchObject({ unit: '%', value: 16.1 });
    expect(sink.s.find((x) => x.type === 'HKQuantityTypeIdentifierBodyMass')!.unit).toBe('[lb_av]');
    expect(sink.s.find((x) => x.type === 'HKQuantityTypeIdentifierWalkingHeartRateAverage')!.unit).toBe('/min');
    expect(sink.r.find((r) => r.type === 'HKCategoryTypeIdentifierAppleStandHour')!.title).toBe('Apple stand hour 2015-07-14: stood once, 60 min');
    expect(sink.r.find((r) => r.type === 'HKDataTypeIdentifierAudiogram')!.text).toContain('frequencyValue 250');
  });

  it('gives records stable ids and versions across imports', async () => {
    const a = collector();
    const b = collector();
    await importAppleHealth({ xmlPath: join(FIXTURES, 'opendroid-hk_sampleexport-2.xml') }, a);
    await importAppleHealth({ xmlPath: join(FIXTURES, 'opendroid-hk_sampleexport-2.xml') }, b);
    expect(b.r.map((r) => [r.externalId, r.externalVersion])).toEqual(a.r.map((r) => [r.externalId, r.externalVersion]));
    expect(new Set(a.r.map((r) => r.externalId)).size).toBe(a.r.length);
  });
});

describe('generated export with known values', () => {
  const W = 'Jane’s Apple Watch';
  const P = 'Jane’s iPhone';
  const HR = 'HKQuantityTypeIdentifierHeartRate';
  const ST = 'HKQuantityTypeIdentifierStepCount';
  const SL = 'HKCategoryTypeIdentifierSleepAnalysis';
  const sleep = (src: string, s: string, e: string, v: string) =>
    `  <Record type="${SL}" sourceName="${src}" startDate="${s}" endDate="${e}" value="HKCategoryValueSleepAnalysis${v}"/>\n`;
  const body = [
    // Heart rate: 2026-05-31 gets one reading just before midnight; 2026-06-01 starts 00:30:05 +0100,
    // which is 23:30:05 UTC the day before, and still belongs to 2026-06-01.
    recordXml(HR, 'count/min', 99, W, '2026-05-31 23:59:59 +0100'),
    recordXml(HR, 'count/min', 50, W, '2026-06-01 00:30:05 +0100'),
    recordXml(HR, 'count/min', 60, W, '2026-06-01 08:00:00 +0100', '2026-06-01 08:00:00 +0100', { HKMetadataKeyHeartRateMotionContext: '1' }),
    recordXml(HR, 'count/min', 70, P, '2026-06-01 12:00:00 +0100'),
    recordXml(HR, 'count/min', 180, W, '2026-06-01 23:59:59 +0100'),
    recordXml(HR, 'count/min', 180, W, '2026-06-01 23:59:59 +0100'), // exact duplicate: stored once
    // Across the UK's spring-forward (2026-03-29 01:00 UTC): the offset changes mid-day.
    recordXml(HR, 'count/min', 40, W, '2026-03-28 23:59:59 +0000'),
    recordXml(HR, 'count/min', 41, W, '2026-03-29 00:30:00 +0000'),
    recordXml(HR, 'count/min', 43, W, '2026-03-29 02:30:00 +0100'),
    recordXml(HR, 'count/min', 45, W, '2026-03-29 23:30:00 +0100'),
    recordXml(HR, 'count/min', 47, W, '2026-03-30 00:10:00 +0100'),
    // Steps for one walk, recorded by both devices: 600 on the phone, 650 on the watch.
    recordXml(ST, 'count', 100, P, '2026-06-01 10:00:00 +0100', '2026-06-01 10:10:00 +0100'),
    recordXml(ST, 'count', 150, W, '2026-06-01 10:00:00 +0100', '2026-06-01 10:10:00 +0100'),
    recordXml(ST, 'count', 200, P, '2026-06-01 10:10:00 +0100', '2026-06-01 10:20:00 +0100'),
    recordXml(ST, 'count', 250, W, '2026-06-01 10:10:00 +0100', '2026-06-01 10:20:00 +0100'),
    recordXml(ST, 'count', 300, P, '2026-06-01 10:20:00 +0100', '2026-06-01 10:30:00 +0100'),
    recordXml(ST, 'count', 250, W, '2026-06-01 10:20:00 +0100', '2026-06-01 10:30:00 +0100'),
    recordXml(ST, 'count', 5, P, '2026-06-02 00:00:30 +0100', '2026-06-02 00:01:00 +0100'),
    // Sleep: asleep stages count, in bed and awake don't; by the local date the night started.
    sleep(W, '2026-05-31 23:00:00 +0100', '2026-06-01 07:00:00 +0100', 'InBed'),
    sleep(W, '2026-05-31 23:30:00 +0100', '2026-06-01 01:00:00 +0100', 'AsleepCore'),
    sleep(W, '2026-06-01 01:00:00 +0100', '2026-06-01 02:00:00 +0100', 'AsleepDeep'),
    sleep(W, '2026-06-01 02:00:00 +0100', '2026-06-01 02:30:00 +0100', 'AsleepREM'),
    sleep(W, '2026-06-01 02:30:00 +0100', '2026-06-01 02:40:00 +0100', 'Awake'),
    sleep('AutoSleep', '2026-05-31 23:45:00 +0100', '2026-06-01 06:45:00 +0100', 'Asleep'),
    // Blood pressure as Apple writes it: the members appear inside the correlation and on top.
    `  <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron" startDate="2026-06-01 07:10:00 +0100" endDate="2026-06-01 07:10:00 +0100">\n` +
      `   <MetadataEntry key="HKWasUserEntered" value="0"/>\n` +
      recordXml('HKQuantityTypeIdentifierBloodPressureSystolic', 'mmHg', 120, 'Omron', '2026-06-01 07:10:00 +0100') +
      recordXml('HKQuantityTypeIdentifierBloodPressureDiastolic', 'mmHg', 80, 'Omron', '2026-06-01 07:10:00 +0100') +
      `  </Correlation>\n`,
    recordXml('HKQuantityTypeIdentifierBloodPressureSystolic', 'mmHg', 120, 'Omron', '2026-06-01 07:10:00 +0100'),
    recordXml('HKQuantityTypeIdentifierBloodPressureDiastolic', 'mmHg', 80, 'Omron', '2026-06-01 07:10:00 +0100'),
    `  <Correlation type="HKCorrelationTypeIdentifierFood" sourceName="MyFitnessPal" startDate="2026-06-01 13:00:00 +0100" endDate="2026-06-01 13:00:00 +0100">\n` +
      `   <MetadataEntry key="HKFoodType" value="Pasta"/>\n` +
      recordXml('HKQuantityTypeIdentifierDietaryEnergyConsumed', 'Cal', 640, 'MyFitnessPal', '2026-06-01 13:00:00 +0100') +
      recordXml('HKQuantityTypeIdentifierDietaryProtein', 'g', 22, 'MyFitnessPal', '2026-06-01 13:00:00 +0100') +
      `  </Correlation>\n`,
    `  <Record type="HKCategoryTypeIdentifierMindfulSession" sourceName="${W}" startDate="2026-06-01 07:00:00 +0100" endDate="2026-06-01 07:10:00 +0100" value="HKCategoryValueNotApplicable">\n   <MetadataEntry key="HKMetadataKeySyncVersion" value="1"/>\n  </Record>\n`,
    `  <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.2" durationUnit="min" sourceName="${W}" startDate="2026-06-01 18:00:00 +0100" endDate="2026-06-01 18:31:12 +0100">\n` +
      `   <MetadataEntry key="HKIndoorWorkout" value="0"/>\n   <WorkoutEvent type="HKWorkoutEventTypePause" date="2026-06-01 18:10:00 +0100"/>\n` +
      `   <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="2026-06-01 18:00:00 +0100" endDate="2026-06-01 18:31:12 +0100" sum="5.21" unit="km"/>\n` +
      `   <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="2026-06-01 18:00:00 +0100" endDate="2026-06-01 18:31:12 +0100" sum="331.4" unit="Cal"/>\n` +
      `   <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2026-06-01 18:00:00 +0100" endDate="2026-06-01 18:31:12 +0100" average="151.2" minimum="98" maximum="176" unit="count/min"/>\n` +
      `  </Workout>\n`,
    `  <ActivitySummary dateComponents="2026-06-01" activeEnergyBurned="512.5" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleExerciseTime="41" appleExerciseTimeGoal="30" appleStandHours="9" appleStandHoursGoal="12"/>\n`,
  ].join('');
  const xml = exportXml(body);

  it('checks every daily count/min/max/mean/sum', async () => {
    const chunks = await importChunks(xml);
    const stats = Object.fromEntries([...chunks].map(([k, c]) => [k, c.stats]));
    expect(stats).toEqual({
      [`${HR} 2026-05-31`]: { count: 1, min: 99, max: 99, mean: 99, sum: 99 },
      [`${HR} 2026-06-01`]: { count: 4, min: 50, max: 180, mean: 90, sum: 360 },
      [`${HR} 2026-03-28`]: { count: 1, min: 40, max: 40, mean: 40, sum: 40 },
      [`${HR} 2026-03-29`]: { count: 3, min: 41, max: 45, mean: 43, sum: 129 },
      [`${HR} 2026-03-30`]: { count: 1, min: 47, max: 47, mean: 47, sum: 47 },
      [`${ST} 2026-06-01`]: { count: 3, min: 150, max: 250, mean: 650 / 3, sum: 650 },
      [`${ST} 2026-06-02`]: { count: 1, min: 5, max: 5, mean: 5, sum: 5 },
      // One night each, filed whole on the date it started: AutoSleep's 420 min beat the watch's
      // 90 + 60 + 30 asleep, and 06-01, where most of the night lay, has no sleep of its own.
      [`${SL} 2026-05-31`]: { count: 1, min: 420, max: 420, mean: 420, sum: 420 },
      // Each stage is its own series of minutes, on the local date its night started.
      ['HKCategoryValueSleepAnalysisInBed 2026-05-31']: { count: 1, min: 480, max: 480, mean: 480, sum: 480 },
      ['HKCategoryValueSleepAnalysisAsleepCore 2026-05-31']: { count: 1, min: 90, max: 90, mean: 90, sum: 90 },
      ['HKCategoryValueSleepAnalysisAsleepDeep 2026-05-31']: { count: 1, min: 60, max: 60, mean: 60, sum: 60 },
      ['HKCategoryValueSleepAnalysisAsleepREM 2026-05-31']: { count: 1, min: 30, max: 30, mean: 30, sum: 30 },
      ['HKCategoryValueSleepAnalysisAwake 2026-05-31']: { count: 1, min: 10, max: 10, mean: 10, sum: 10 },
      // AutoSleep's pre-iOS 16 "Asleep" is the unspecified stage.
      ['HKCategoryValueSleepAnalysisAsleepUnspecified 2026-05-31']: { count: 1, min: 420, max: 420, mean: 420, sum: 420 },
      ['HKQuantityTypeIdentifierBloodPressureSystolic 2026-06-01']: { count: 1, min: 120, max: 120, mean: 120, sum: 120 },
      ['HKQuantityTypeIdentifierBloodPressureDiastolic 2026-06-01']: { count: 1, min: 80, max: 80, mean: 80, sum: 80 },
      ['HKQuantityTypeIdentifierDietaryEnergyConsumed 2026-06-01']: { count: 1, min: 640, max: 640, mean: 640, sum: 640 },
      ['HKQuantityTypeIdentifierDietaryProtein 2026-06-01']: { count: 1, min: 22, max: 22, mean: 22, sum: 22 },
    });
    const hr = chunks.get(`${HR} 2026-06-01`)!;
    expect(hr.unit).toBe('/min');
    expect(hr.samples[0]![0]).toBe(Date.UTC(2026, 4, 31, 23, 30, 5));
    expect(hr.sources).toEqual([W, P]);
    expect(chunks.get(`${SL} 2026-05-31`)!.unit).toBe('min');
    // The DST day: 00:30 +0000 and 02:30 +0100 are 1 h apart in real time.
    const dst = chunks.get(`${HR} 2026-03-29`)!;
    expect(dst.samples[1]![0] - dst.samples[0]![0]).toBe(3600_000);
  });

  it('re-importing the same export changes no stats', async () => {
    const a = await importChunks(xml);
    const b = await importChunks(xml);
    for (const [k, c] of a) {
      const m = mergeChunks(c, b.get(k)!);
      expect(m.stats, k).toEqual(c.stats);
      expect(m.samples, k).toEqual(c.samples);
    }
  });

  it('makes readable records of correlations, workouts, categories and rings', async () => {
    const { records, counts } = await importXml(xml);
    const titles = records.map((r) => r.title);
    expect(titles).toContain('Blood pressure 120/80 mmHg');
    expect(titles).toContain('Food: Pasta, 640 kcal');
    expect(titles).toContain('Running 5.2 km, 31 min');
    expect(titles).toContain('Mindful session 2026-06-01: once, 10 min');
    expect(titles).toContain('Activity 2026-06-01: move 513/500 kcal, exercise 41/30 min, stand 9/12 h');
    const run = records.find((r) => r.type === 'HKWorkoutActivityTypeRunning')!;
    expect(run.text).toContain('average heart rate 151 bpm (max 176)');
    expect(run.text).toContain('Paused 1 time.');
    expect(run.occurredAt).toBe('2026-06-01T18:00:00+01:00');
    const bp = records.find((r) => r.type === 'HKCorrelationTypeIdentifierBloodPressure')!;
    expect(bp.data).toMatchObject({ systolic: 120, diastolic: 80, unit: 'mm[Hg]' });
    const mindful = records.find((r) => r.type === 'HKCategoryTypeIdentifierMindfulSession')!;
    expect((mindful.data.entries as CategoryEntry[])[0]!.metadata).toEqual([{ key: 'HKMetadataKeySyncVersion', value: '1' }]);
    expect(counts).toMatchObject({ Record: 27, Correlation: 2, Workout: 1, ActivitySummary: 1, sleepRecords: 6, categoryRecords: 1 });
  });
});

describe('category samples', () => {
  const W = 'Jane’s Apple Watch';
  const stand = (date: string, h: number, v = 'Stood', src = W) => {
    const hh = String(h).padStart(2, '0');
    const h2 = String(h + 1).padStart(2, '0');
    return `  <Record type="HKCategoryTypeIdentifierAppleStandHour" sourceName="${src}" startDate="${date} ${hh}:00:00 +0100" endDate="${date} ${h2}:00:00 +0100" value="HKCategoryValueAppleStandHour${v}"/>\n`;
  };

  it('become one record per type and local day, every sample listed and kept', async () => {
    const xml = exportXml(
      [stand('2026-06-01', 9), stand('2026-06-01', 7), stand('2026-06-01', 8, 'Idle'), stand('2026-06-02', 7)].join('') +
        `  <Record type="HKCategoryTypeIdentifierHandwashingEvent" sourceName="${W}" startDate="2026-06-01 12:00:00 +0100" endDate="2026-06-01 12:00:20 +0100" value="HKCategoryValueNotApplicable"/>\n`,
    );
    const { records, counts } = await importXml(xml);
    expect(counts).toMatchObject({ categoryRecords: 5, records: 1 + 3 }); // the profile (<Me>) and three days
    const day = records.find((r) => r.externalId === 'HKCategoryTypeIdentifierAppleStandHour/2026-06-01')!;
    expect(day.title).toBe('Apple stand hour 2026-06-01: stood 2 times, idle once, 180 min in all');
    expect(day.text).toBe(
      `Apple stand hour on 2026-06-01 (times at +0100): stood 2 times, idle once, 180 min in all, recorded by ${W}. 07:00 stood for 60 min; 08:00 idle for 60 min; 09:00 stood for 60 min.`,
    );
    expect(day.occurredAt).toBe('2026-06-01T07:00:00+01:00');
    expect((day.data.entries as CategoryEntry[]).map((e) => e.attributes.startDate)).toEqual([
      '2026-06-01 07:00:00 +0100',
      '2026-06-01 08:00:00 +0100',
      '2026-06-01 09:00:00 +0100',
    ]);
    expect(records.find((r) => r.externalId === 'HKCategoryTypeIdentifierAppleStandHour/2026-06-02')!.title).toBe(
      'Apple stand hour 2026-06-02: stood once, 60 min',
    );
    expect(records.find((r) => r.type === 'HKCategoryTypeIdentifierHandwashingEvent')!.title).toBe('Handwashing event 2026-06-01: once');
    // The same day in another order is the same record at the same version.
    const again = await importXml(exportXml([stand('2026-06-01', 8, 'Idle'), stand('2026-06-01', 9), stand('2026-06-02', 7), stand('2026-06-01', 7)].join('')));
    const same = again.records.find((r) => r.externalId === day.externalId)!;
    expect(same.externalVersion).toBe(day.externalVersion);
  });

  it('a day that returns after it was emitted becomes a second record, never replacing the first', () => {
    const days = new CategoryDays(2);
    const out: RecordInput[] = [];
    const a = (date: string, h: number) => ({
      type: 'HKCategoryTypeIdentifierAppleStandHour',
      sourceName: W,
      startDate: `${date} ${String(h).padStart(2, '0')}:00:00 +0000`,
      value: 'HKCategoryValueAppleStandHourStood',
    });
    days.add(a('2026-06-01', 7), [], out);
    days.add(a('2026-06-02', 7), [], out);
    days.add(a('2026-06-03', 7), [], out); // three open days with room for two: 06-01 goes out
    days.add(a('2026-06-01', 8), [], out);
    days.drain(out);
    expect(out.map((r) => r.externalId.split('/').slice(1).join('/'))).toEqual(['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-01/2']);
    expect(out.map((r) => (r.data.entries as CategoryEntry[]).length)).toEqual([1, 1, 1, 1]);
  });
});

describe('hostile and damaged XML', () => {
  it('accepts Apple’s internal DTD but refuses any entity declaration', async () => {
    expect(() => checkDoctype(' HealthData [\n<!-- c --><!ELEMENT HealthData (Record*)>\n<!ATTLIST Record type CDATA #REQUIRED>\n]')).not.toThrow();
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n<HealthData locale="en">&lol3;</HealthData>\n`;
    const e = await refusal(bomb);
    expect(e.code).toBe('xml_entity');
    expect(e.message).toMatch(/declares XML entities/);
  });

  it('refuses external SYSTEM / PUBLIC identifiers and parameter entities', async () => {
    const ext = await refusal(
      `<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<HealthData locale="en"><ExportDate value="&xxe;"/></HealthData>`,
    );
    expect(ext.code).toBe('xml_entity');
    const sys = await refusal(`<?xml version="1.0"?>\n<!DOCTYPE HealthData SYSTEM "http://example.invalid/evil.dtd">\n<HealthData locale="en"/>`);
    expect(sys.code).toBe('xml_entity');
    expect(sys.message).toMatch(/external file/);
    const pub = await refusal(`<!DOCTYPE HealthData PUBLIC "-//X//Y" "http://example.invalid/x.dtd"><HealthData/>`);
    expect(pub.code).toBe('xml_entity');
    expect(() => checkDoctype(' HealthData [ %ext; ]')).toThrow(/parameter entities/);
  });

  it('is not fooled by a quote inside a processing instruction or comment of the DTD', async () => {
    // A naive "strip quoted strings" pass pairs the PI's quote with the next one and blanks the
    // entity declarations between them.
    const hidden = `<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<?pi "?>\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;">\n<?pi "?>\n]>\n<HealthData locale="en"><ExportDate value="&lol2;"/></HealthData>\n`;
    const e = await refusal(hidden);
    expect(e.code).toBe('xml_entity');
    expect(() => checkDoctype(` HealthData [\n<?pi '?>\n<!ENTITY x SYSTEM "file:///etc/passwd">\n<?pi '?>\n]`)).toThrow(/entities/);
    expect(() => checkDoctype(` HealthData [\n<!-- " -->\n<!ENTITY x "y">\n<!-- " -->\n]`)).toThrow(/entities/);
    // A literal may hold "-->" or "?>" without ending anything; Apple's own DTD still passes.
    expect(() => checkDoctype(` HealthData [\n<!ATTLIST Record note CDATA "a --> b ?> c">\n<?pi "?>\n]`)).not.toThrow();
    expect(() => checkDoctype(APPLE_DTD.slice('<!DOCTYPE'.length, -1))).not.toThrow();
  });

  it('refuses undefined entity references as invalid XML (nothing is expanded)', async () => {
    const e = await refusal(`<HealthData locale="en"><ExportDate value="&xxe;"/></HealthData>`);
    expect(e.code).toBe('xml_invalid');
  });

  it('reports truncated XML as xml_invalid with a clear message', async () => {
    const xml = exportXml(recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 60, 'W', '2026-06-01 08:00:00 +0100'));
    const cut = await refusal(xml.slice(0, Math.floor(xml.length * 0.8)));
    expect(cut.code).toBe('xml_invalid');
    expect(cut.message).toMatch(/ends too early.*truncated/);
    const mid = await refusal(xml.slice(0, xml.indexOf('value="60"') + 4));
    expect(mid.code).toBe('xml_invalid');
    expect((await refusal('')).code).toBe('xml_invalid');
    expect((await refusal('<HealthData><Record></HealthData>')).code).toBe('xml_invalid');
  });

  it('refuses XML that is not an Apple Health export', async () => {
    const e = await refusal('<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>');
    expect(e.code).toBe('not_apple_health');
    expect(e.message).toMatch(/<ClinicalDocument>/);
  });

  it('tolerates stray control characters, at any chunk boundary', async () => {
    const xml = exportXml(
      `  <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Jane\u000B’s\u0001 Watch" unit="count/min" startDate="2026-06-01 08:00:00 +0100" endDate="2026-06-01 08:00:00 +0100" value="6\u00010"/>\n` +
        `  <Record type="HKCategoryTypeIdentifierMindfulSession" sourceName="App\u001F" startDate="2026-06-01 07:00:00 +0100" endDate="2026-06-01 07:10:00 +0100" value="HKCategoryValueNotApplicable">\n   <MetadataEntry key="note" value="a\u0000b\u0008c"/>\n  </Record>\n`,
    );
    const whole = await importXml(xml);
    expect(whole.samples).toEqual([expect.objectContaining({ sourceName: 'Jane’s Watch', value: 60 })]);
    expect((whole.records.find((r) => r.type === 'HKCategoryTypeIdentifierMindfulSession')!.data.entries as CategoryEntry[])[0]!.metadata).toEqual([
      { key: 'note', value: 'abc' },
    ]);
    // Byte by byte: multi-byte characters and control characters split across chunks.
    const bytes = Buffer.from(xml, 'utf8');
    async function* oneByte() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    const sink = collector();
    await parseExportXml(oneByte(), sink);
    expect(sink.s).toEqual(whole.samples);
    expect(sink.r.map((r) => r.externalVersion)).toEqual(whole.records.map((r) => r.externalVersion));
    expect(stripControlChars(Buffer.from('a\tb\nc\rd\u000be\u0001'))).toEqual(Buffer.from('a\tb\nc\rde'));
    const clean = Buffer.from('plain text, nothing to strip');
    expect(stripControlChars(clean)).toBe(clean);
  });

  it('skips unusable records instead of failing', async () => {
    const { counts, samples } = await importXml(
      exportXml(
        recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 'abc', 'W', '2026-06-01 08:00:00 +0100') +
          recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 61, 'W', '2026-13-01 08:00:00 +0100') +
          recordXml('HKQuantityTypeIdentifierHeartRate', 'count/min', 62, 'W', '2026-06-01 08:00:00 +0100'),
      ),
    );
    expect(samples.map((x) => x.value)).toEqual([62]);
    // Apart, so the job result can say which: the value, or the date.
    expect(counts.invalid).toBe(1);
    expect(counts.invalidDate).toBe(1);
  });
});

describe('sink backpressure', () => {
  it('awaits the sink between batches and never overlaps calls', async () => {
    const body = Array.from({ length: 3000 }, (_, i) =>
      recordXml(
        'HKQuantityTypeIdentifierHeartRate',
        'count/min',
        60 + (i % 50),
        'W',
        `2026-06-01 ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0100`,
      ),
    ).join('');
    const bytes = Buffer.from(exportXml(body));
    let active = 0;
    let calls = 0;
    let total = 0;
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
    }
    await parseExportXml(
      chunks(),
      {
        async samples(b) {
          expect(active).toBe(0);
          active++;
          calls++;
          total += b.length;
          await new Promise((r) => setTimeout(r, 2));
          active--;
        },
        records() {},
      },
      { sampleBatch: 100 },
    );
    expect(total).toBe(3000);
    expect(calls).toBeGreaterThan(10);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(importAppleHealth({ xmlPath: join(FIXTURES, 'opendroid-hk_sampleexport.xml') }, collector(), { signal: ac.signal })).rejects.toThrow('stop');
  });
});
