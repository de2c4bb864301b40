/**
 * Rows and files of a Fitbit archive that cannot be read: each is skipped and counted, the rest
 * of the archive is imported, and only a damaged archive is reported as one.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuantitySample, RecordInput } from '../types.js';
import { ImportError, importFitbitArchive, type FitbitImportOptions, type FitbitSink } from './import.js';
import { HK } from './normalize.js';
import { isRealDate } from '../calendar.js';
import { parseFitbitUsDate, parseNaiveIso, parseZonedIso } from './time.js';
import { SLEEP_LOG_SAMPLE, buildZip, writeArchive, type TestEntry } from '../../test-support/integrations/fitbit/archive-writer.js';

const G = 'Takeout/Fitbit/Global Export Data/';
const CSV = 'Takeout/Fitbit/Physical Activity_GoogleData/';
const json = (v: unknown): string => JSON.stringify(v, null, 1);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitbit-bad-rows-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Collected {
  samples: QuantitySample[];
  records: RecordInput[];
}

async function run(name: string, entries: TestEntry[], opts: FitbitImportOptions = { timezone: 'Europe/Paris' }) {
  const path = await writeArchive(join(dir, name), entries);
  const c: Collected = { samples: [], records: [] };
  const sink: FitbitSink = {
    samples: (b) => {
      c.samples.push(...b);
    },
    records: (b) => {
      c.records.push(...b);
    },
  };
  return { ...c, ...(await importFitbitArchive(path, sink, opts)) };
}

const of = (samples: QuantitySample[], type: string) => samples.filter((s) => s.type === type).map((s) => [s.localDate, s.value]);

describe('dates that do not exist', () => {
  it('are refused by the time parsers instead of rolling over to another day', () => {
    expect(parseFitbitUsDate('02/30/24 01:00:00')).toBeNull();
    expect(parseFitbitUsDate('13/45/24')).toBeNull();
    expect(parseFitbitUsDate('06/01/24 24:61:00')).toBeNull();
    expect(parseFitbitUsDate('02/29/23')).toBeNull();
    expect(parseFitbitUsDate('02/29/24 23:59:59')).toEqual([2024, 2, 29, 23, 59, 59]);
    expect(parseNaiveIso('2024-02-31T23:00:00.000')).toBeNull();
    expect(parseNaiveIso('2024-06-01T25:00:00')).toBeNull();
    expect(parseNaiveIso('2024-06-01T23:30:00.000')).toEqual([2024, 6, 1, 23, 30, 0, 0]);
    expect(parseZonedIso('2024-02-31T10:00:00Z')).toBeNull();
    expect(parseZonedIso('2024-02-29T24:00:00Z')).toBeNull();
    expect(parseZonedIso('2024-02-29T10:00:00Z')).toEqual({ ms: Date.UTC(2024, 1, 29, 10), offsetMinutes: null });
    expect(isRealDate('2024-02-31')).toBe(false);
    expect(isRealDate('0000-01-01')).toBe(false);
    expect(isRealDate('2000-02-29')).toBe(true);
    expect(isRealDate('1900-02-29')).toBe(false);
  });

  it.each(['zip', 'tgz'])('skips and counts each such row and keeps the rest of its file (%s)', async (ext) => {
    const r = await run(`dates.${ext}`, [
      {
        name: `${G}weight-2024-06-01.json`,
        data: json([
          { logId: 2, weight: 160, date: '13/45/24', time: '08:00:00', source: 'Aria' },
          { logId: 3, weight: 160, date: '06/01/24', time: '25:00:00', source: 'Aria' },
          { logId: 4, weight: 150, date: '06/01/24', time: '08:00:00', source: 'Aria' },
        ]),
      },
      {
        name: `${G}resting_heart_rate-2024-06-01.json`,
        data: json([
          { dateTime: '06/01/24 00:00:00', value: { date: '02/31/24', value: 60, error: 3 } },
          { dateTime: '06/02/24 00:00:00', value: { date: '06/02/24', value: 58.5, error: 3 } },
          // Fitbit's own empty day: not data, so not counted.
          { dateTime: '06/03/24 00:00:00', value: { date: null, value: 0, error: 0 } },
        ]),
      },
      {
        name: `${G}sleep-2024-06-01.json`,
        data: json([
          { ...SLEEP_LOG_SAMPLE, logId: 9, dateOfSleep: '2024-02-31', startTime: '2024-02-31T23:00:00.000', endTime: '2024-03-01T06:00:00.000' },
          SLEEP_LOG_SAMPLE,
        ]),
      },
      {
        name: `${G}steps-2024-02-29.json`,
        data: json([
          { dateTime: '02/30/24 01:00:00', value: '5' },
          { dateTime: '02/29/24 12:00:00', value: '7' },
        ]),
      },
      {
        name: `${G}heart_rate-2024-06-01.json`,
        data: json([
          { dateTime: '06/01/24 24:61:00', value: { bpm: 60, confidence: 3 } },
          { dateTime: '06/01/24 10:00:00', value: { bpm: 61, confidence: 3 } },
        ]),
      },
      { name: `${CSV}heart_rate_2024-03-02.csv`, data: 'timestamp,beats per minute\n2024-02-31T10:00:00Z,70\n2024-03-02T10:00:00Z,71\n' },
      { name: 'Takeout/Fitbit/Heart/daily_resting_heart_rate.csv', data: 'timestamp,beats per minute\n2024-02-30T00:00:00Z,55\n2024-06-05T00:00:00Z,56\n' },
    ]);
    expect(r.skipped).toEqual({ unreadableFiles: 0, unreadableDate: 8, unreadableEntries: 0, unusableValue: 0 });
    expect(r.samples.every((s) => isRealDate(s.localDate))).toBe(true);
    expect(of(r.samples, HK.bodyMass)).toEqual([['2024-06-01', 68.039]]);
    expect(of(r.samples, HK.restingHeartRate)).toEqual([
      ['2024-06-05', 56],
      ['2024-06-02', 58.5],
    ]);
    expect(of(r.samples, HK.sleep)).toEqual([['2024-03-09', 420]]);
    expect(r.records.map((x) => x.externalId)).toEqual(['fitbit:sleep/1']);
    expect(of(r.samples, HK.steps)).toEqual([['2024-02-29', 7]]);
    expect(of(r.samples, HK.heartRate)).toEqual([
      ['2024-03-02', 71],
      ['2024-06-01', 61],
    ]);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'unreadable_entries', count: 8 }));
  });

  it('keeps heart rate of a file named for a day that does not exist on the local day of each sample', async () => {
    const r = await run('hr-feb30.zip', [
      { name: `${G}heart_rate-2024-02-30.json`, data: json([{ dateTime: '03/01/24 10:00:00', value: { bpm: 61, confidence: 3 } }]) },
    ]);
    expect(of(r.samples, HK.heartRate)).toEqual([['2024-03-01', 61]]);
  });
});

describe('entries that are not objects, and files that are not lists', () => {
  it.each(['zip', 'tgz'])('skip and count a null entry, keeping the valid ones around it (%s)', async (ext) => {
    const r = await run(`nulls.${ext}`, [
      { name: `${G}heart_rate-2024-06-01.json`, data: json([null, { dateTime: '06/01/24 10:00:00', value: { bpm: 61, confidence: 3 } }, 7]) },
      { name: `${G}sleep-2024-03-09.json`, data: json([null, SLEEP_LOG_SAMPLE]) },
      { name: `${G}steps-2024-06-01.json`, data: json([{ dateTime: '06/01/24 10:00:00', value: '12' }, null]) },
      { name: `${G}weight-2024-06-01.json`, data: json([null, { logId: 4, weight: 150, date: '06/01/24', time: '08:00:00' }]) },
      { name: `${G}resting_heart_rate-2024-06-01.json`, data: json([null, { dateTime: '06/02/24 00:00:00', value: { date: '06/02/24', value: 58 } }]) },
      { name: `${G}exercise-0.json`, data: json([null]) },
    ]);
    expect(r.skipped).toEqual({ unreadableFiles: 0, unreadableDate: 0, unreadableEntries: 7, unusableValue: 0 });
    expect(of(r.samples, HK.heartRate)).toEqual([['2024-06-01', 61]]);
    expect(of(r.samples, HK.sleep)).toEqual([['2024-03-09', 420]]);
    expect(of(r.samples, HK.steps)).toEqual([['2024-06-01', 12]]);
    expect(of(r.samples, HK.bodyMass)).toEqual([['2024-06-01', 68.039]]);
    expect(of(r.samples, HK.restingHeartRate)).toEqual([['2024-06-02', 58]]);
    expect(r.records).toHaveLength(1);
  });

  it('counts a file whose JSON is not a list, and one that is not JSON, as files that could not be read', async () => {
    const r = await run('notarray.zip', [
      { name: `${G}heart_rate-2024-06-01.json`, data: '{"a":1}' },
      { name: `${G}steps-2024-06-01.json`, data: '"x"' },
      { name: `${G}weight-2024-06-01.json`, data: 'null' },
      { name: `${G}resting_heart_rate-2024-06-01.json`, data: '[{"dateTime":"06/01/24 00:00:00","value":{"date":"06/01/24","value":6' },
      { name: `${G}sleep-2024-06-01.json`, data: '[1,"a",null,[]]' },
      { name: `${G}steps-2024-06-02.json`, data: json([{ dateTime: '06/02/24 10:00:00', value: '40' }]) },
    ]);
    expect(r.skipped).toEqual({ unreadableFiles: 4, unreadableDate: 0, unreadableEntries: 4, unusableValue: 0 });
    expect(of(r.samples, HK.steps)).toEqual([['2024-06-02', 40]]);
    expect(r.warnings).toContainEqual(expect.objectContaining({ code: 'unreadable_files', count: 4 }));
    expect(JSON.stringify(r.warnings)).not.toContain(G);
  });

  it('counts values that are missing or not numbers, but not Fitbit’s empty minutes and days', async () => {
    const r = await run('values.zip', [
      {
        name: `${G}heart_rate-2024-06-01.json`,
        data: json([
          { dateTime: '06/01/24 01:00:00', value: null },
          { dateTime: '06/01/24 02:00:00', value: { bpm: 'abc' } },
          { dateTime: '06/01/24 03:00:00', value: { bpm: 62 } },
        ]),
      },
      {
        name: `${G}steps-2024-06-01.json`,
        data: json([
          { dateTime: '06/01/24 01:00:00', value: '0' },
          { dateTime: '06/01/24 02:00:00', value: 'abc' },
          { dateTime: '06/01/24 03:00:00', value: '9' },
        ]),
      },
      { name: `${G}weight-2024-06-01.json`, data: json([{ weight: 'abc', date: '06/01/24' }]) },
    ]);
    expect(r.skipped).toEqual({ unreadableFiles: 0, unreadableDate: 0, unreadableEntries: 0, unusableValue: 4 });
    expect(of(r.samples, HK.heartRate)).toEqual([['2024-06-01', 62]]);
    expect(of(r.samples, HK.steps)).toEqual([['2024-06-01', 9]]);
  });
});

describe('errors that are not the archive’s', () => {
  it.each(['zip', 'tgz'])('come out as they are, not as an unreadable archive (%s)', async (ext) => {
    const path = await writeArchive(join(dir, `sinkfail.${ext}`), [
      { name: `${G}steps-2024-06-01.json`, data: json([{ dateTime: '06/01/24 10:00:00', value: '12' }]) },
    ]);
    const boom = new TypeError('the store is broken');
    const err = await importFitbitArchive(
      path,
      {
        samples: () => {
          throw boom;
        },
        records: () => {},
      },
      { timezone: 'UTC', batchSize: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(err).not.toBeInstanceOf(ImportError);
  });

  it('still reports an entry whose compressed data is damaged as a damaged archive', async () => {
    const data = json(Array.from({ length: 400 }, (_, i) => ({ dateTime: `06/01/24 ${String(i % 24).padStart(2, '0')}:00:00`, value: String(i + 1) })));
    const zip = buildZip([{ name: `${G}steps-2024-06-01.json`, data }]);
    // Garble the deflate stream just after the local header (30 bytes plus the name).
    const start = 30 + `${G}steps-2024-06-01.json`.length;
    for (let i = start + 2; i < start + 40; i++) zip[i] = 0xff;
    const path = join(dir, 'garbled.zip');
    await writeFile(path, zip);
    expect((await readFile(path)).length).toBe(zip.length);
    const err = await importFitbitArchive(path, { samples: () => {}, records: () => {} }, { timezone: 'UTC' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).code).toBe('corrupt_archive');
  });
});
