/**
 * A Fitbit archive with unreadable rows and files: the job imports the rest and its result says
 * what it left behind, without a server error or a request to download the archive again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLEEP_LOG_SAMPLE, buildTgz, buildZip, type TestEntry } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

type Job = { status: string; result?: { imported: Record<string, number> }; error?: string };

const G = 'Takeout/Fitbit/Global Export Data/';
const json = (v: unknown) => JSON.stringify(v);

const entries: TestEntry[] = [
  // Impossible dates (PostgreSQL's date column refuses them; Date.UTC would move them a day on).
  {
    name: `${G}weight-2024-03-10.json`,
    data: json([
      { logId: 2, weight: 160, date: '13/45/24', time: '08:00:00' },
      { logId: 3, weight: 160, date: '03/10/24', time: '25:00:00' },
      { logId: 4, weight: 150, date: '03/10/24', time: '08:00:00' },
    ]),
  },
  { name: `${G}resting_heart_rate-2024-03-10.json`, data: json([{ dateTime: '02/31/24 00:00:00', value: { date: '02/31/24', value: 60 } }]) },
  {
    name: `${G}sleep-2024-02-29.json`,
    data: json([
      null,
      { ...SLEEP_LOG_SAMPLE, logId: 9, dateOfSleep: '2024-02-31', startTime: '2024-02-31T23:00:00.000', endTime: '2024-03-01T06:00:00.000' },
      SLEEP_LOG_SAMPLE,
    ]),
  },
  { name: `${G}steps-2024-03-01.json`, data: json([{ dateTime: '02/30/24 01:00:00', value: '5' }]) },
  // Null rows beside a good one, a file that is not a list, and a file that is not JSON at all.
  { name: `${G}heart_rate-2024-03-10.json`, data: json([null, { dateTime: '03/10/24 10:00:00', value: { bpm: 61, confidence: 3 } }]) },
  { name: `${G}heart_rate-2024-03-11.json`, data: '{"a":1}' },
  { name: `${G}heart_rate-2024-03-12.json`, data: '[{"dateTime":"03/12/24 01:00:00","value":{"bpm":61' },
  { name: `${G}steps-2024-03-10.json`, data: json([{ dateTime: '03/10/24 10:00:00', value: '40' }]) },
];

describe.each(dbTargets())('Fitbit import: what could not be read is counted (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it.each([
    ['zip', () => Promise.resolve(buildZip(entries)), 'takeout.zip'],
    ['tgz', () => buildTgz(entries), 'takeout.tgz'],
  ] as const)('finishes a %s archive with the rest imported and the skipped rows and files in the result', async (_f, build, name) => {
    const user = await signUp(sut.app);
    const mp = multipart({ name, type: 'application/octet-stream', data: await build() }, { timezone: 'UTC' }, user.headers);
    const res = await sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    let job: Job | undefined;
    for (let i = 0; i < 600 && job?.status !== 'done' && job?.status !== 'failed'; i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      job = (await sut.app.inject({ method: 'GET', url: `/api/jobs/${res.json().jobId}`, headers: user.headers })).json() as Job;
    }
    expect(job?.status, job?.error).toBe('done');
    expect(job?.result?.imported).toEqual({
      HKQuantityTypeIdentifierBodyMass: 1,
      HKQuantityTypeIdentifierHeartRate: 1,
      HKQuantityTypeIdentifierStepCount: 1,
      // The night, once: its minutes asleep and its minutes per stage are its record's.
      HKCategoryTypeIdentifierSleepAnalysis: 1,
      'samples with an unreadable date (not imported)': 5,
      'entries that could not be read (not imported)': 2,
      'files that could not be read (not imported)': 2,
    });

    const days = async (type: string) =>
      (await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${type}&from=2024-02-01&to=2024-03-31`, headers: user.headers })).json()
        .days as Array<{ date: string; count: number }>;
    expect((await days('HKQuantityTypeIdentifierStepCount')).map((d) => [d.date, d.count])).toEqual([['2024-03-10', 1]]);
    expect((await days('HKQuantityTypeIdentifierBodyMass')).map((d) => [d.date, d.count])).toEqual([['2024-03-10', 1]]);
    expect((await days('HKCategoryTypeIdentifierSleepAnalysis')).map((d) => [d.date, d.count])).toEqual([['2024-03-09', 1]]);
    expect(sut.logs()).not.toMatch(/"level":50/);
  });
});
