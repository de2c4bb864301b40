import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { ZONE_ARCHIVE, ZONE_ARCHIVE_TYPES } from '../../../test-support/integrations/fitbit/zone-archive.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob, type Job } from '../../../test-support/server/jobs.js';

// A Fitbit archive imported without a zone (read as UTC, and the job says to import again with
// one), then again in New York, then in Paris: each time the stored series must be what one
// import in that zone alone stores, not the earlier import's samples plus shifted copies.

type User = Awaited<ReturnType<typeof signUp>>;
type Day = { date: string; count: number; sum: number; min: number; max: number; mean: number };

describe.each(dbTargets())('Fitbit import again in another time zone (%s)', (target) => {
  let sut: TestServer;
  const zip = buildZip(ZONE_ARCHIVE);
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const importAs = async (user: User, timezone?: string): Promise<Job> => {
    const mp = multipart({ name: 'takeout.zip', type: 'application/zip', data: zip }, timezone ? { timezone } : {}, user.headers);
    const res = await sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    const job = await waitJob(sut.app, user.headers, (res.json() as { jobId: string }).jobId);
    expect(job.status, job.error).toBe('done');
    return job;
  };
  /** Every series type of the archive, day by day (days without samples are not listed). */
  const allSeries = async (user: User): Promise<Record<string, Day[]>> => {
    const out: Record<string, Day[]> = {};
    for (const type of ZONE_ARCHIVE_TYPES) {
      const res = await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${type}&from=2024-02-01&to=2024-04-30`, headers: user.headers });
      expect(res.statusCode, res.body).toBe(200);
      out[type] = (res.json() as { days: Day[] }).days.map((d) => ({ ...d, sum: round(d.sum), mean: round(d.mean), min: round(d.min), max: round(d.max) }));
    }
    return out;
  };
  const seriesCounts = (job: Job) =>
    Object.fromEntries(Object.entries(job.result?.imported ?? {}).filter(([k]) => (ZONE_ARCHIVE_TYPES as readonly string[]).includes(k)));

  it('none, then New York, then Paris: each time the series of one import in that zone', async () => {
    const [moved, newYork, paris, utc] = await Promise.all([signUp(sut.app), signUp(sut.app), signUp(sut.app), signUp(sut.app)]);
    const nyJob = await importAs(newYork, 'America/New_York');
    await importAs(paris, 'Europe/Paris');
    await importAs(utc);
    const nyAlone = await allSeries(newYork);
    const parisAlone = await allSeries(paris);
    const utcAlone = await allSeries(utc);
    // The archive's sleep, weight, steps and heart rate fall on other instants or days by zone.
    for (const type of [
      'HKCategoryTypeIdentifierSleepAnalysis',
      'HKQuantityTypeIdentifierBodyMass',
      'HKQuantityTypeIdentifierStepCount',
      'HKQuantityTypeIdentifierHeartRate',
    ]) {
      expect(nyAlone[type]!.length, type).toBeGreaterThan(0);
    }
    expect(nyAlone.HKQuantityTypeIdentifierStepCount).not.toEqual(utcAlone.HKQuantityTypeIdentifierStepCount);
    expect(nyAlone.HKQuantityTypeIdentifierBodyMass).not.toEqual(utcAlone.HKQuantityTypeIdentifierBodyMass);
    expect(parisAlone.HKQuantityTypeIdentifierHeartRate).not.toEqual(nyAlone.HKQuantityTypeIdentifierHeartRate);

    await importAs(moved);
    expect(await allSeries(moved)).toEqual(utcAlone);

    const second = await importAs(moved, 'America/New_York');
    expect(await allSeries(moved)).toEqual(nyAlone);
    // What it took back is not counted, and samples the first import already had are not new.
    for (const [type, n] of Object.entries(seriesCounts(second))) expect(n, type).toBeLessThanOrEqual(seriesCounts(nyJob)[type] ?? 0);

    await importAs(moved, 'Europe/Paris');
    expect(await allSeries(moved)).toEqual(parisAlone);

    // The same zone again: nothing new, nothing changed (its retractions find nothing left).
    const again = await importAs(moved, 'Europe/Paris');
    expect(seriesCounts(again)).toEqual({});
    expect(await allSeries(moved)).toEqual(parisAlone);

    // The sleep sessions are records keyed by their log ids: updated in place, never doubled.
    const items = (await sut.app.inject({ method: 'GET', url: '/api/items?source=fitbit', headers: moved.headers })).json() as { items: unknown[] };
    const parisItems = (await sut.app.inject({ method: 'GET', url: '/api/items?source=fitbit', headers: paris.headers })).json() as { items: unknown[] };
    expect(items.items.length).toBe(parisItems.items.length);
  });
});

const round = (n: number) => Math.round(n * 1e6) / 1e6;
