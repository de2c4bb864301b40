/**
 * Fitbit's classic weight files carry no unit. Over HTTP: a file whose BMI proves the unit
 * decides it for the archive's other weight files (the probe's kg.zip: 70 kg proven by BMI, then
 * 70.5 without one, once stored as 31.978 kg), and an archive with no proof at all is read as
 * pounds with a warning in the job's result, which holds fixed sentences and counts only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob } from '../../../test-support/server/jobs.js';
import type { Job } from '../../../contract/jobs.js';

type User = Awaited<ReturnType<typeof signUp>>;

const BODY_MASS = 'HKQuantityTypeIdentifierBodyMass';
const DIR = 'Takeout/Fitbit/Global Export Data';
const KG_WITH_BMI = JSON.stringify([{ logId: 1, weight: 70.0, bmi: 24.2, date: '04/01/26', time: '07:00:00', source: 'Aria' }]);
const NO_BMI = JSON.stringify([{ logId: 2, weight: 70.5, date: '05/01/26', time: '07:00:00', source: 'API' }]);

describe.each(dbTargets())('Fitbit weight unit warnings over HTTP (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const importAs = async (user: User, entries: Array<{ name: string; data: string }>, fields: Record<string, string> = {}): Promise<Job> => {
    const mp = multipart({ name: 'kg.zip', type: 'application/zip', data: buildZip(entries) }, { timezone: 'Europe/Berlin', ...fields }, user.headers);
    const res = await sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    const job = (await waitJob(sut.app, user.headers, (res.json() as { jobId: string }).jobId)) as Job;
    expect(job.status, job.error).toBe('done');
    return job;
  };
  const weights = async (user: User) => {
    const res = await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${BODY_MASS}&from=2026-03-01&to=2026-06-30`, headers: user.headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { days: Array<{ date: string; sum: number }> }).days.map((d) => [d.date, d.sum]);
  };

  it('reads a weight file without a BMI in the unit another file of the archive proved (kg.zip, Detect)', async () => {
    const user = await signUp(sut.app);
    const job = await importAs(user, [
      { name: `${DIR}/weight-2026-04-01.json`, data: KG_WITH_BMI },
      { name: `${DIR}/weight-2026-05-01.json`, data: NO_BMI },
    ]);
    expect(await weights(user)).toEqual([
      ['2026-04-01', 70],
      ['2026-05-01', 70.5],
    ]);
    expect(job.result?.imported).toEqual({ [BODY_MASS]: 2 });
    const codes = (job.result?.warnings ?? []).map((w) => w.code);
    expect(codes).not.toContain('weight_read_as_pounds');
    expect(job.result?.warnings).toContainEqual({ code: 'weight_unit_from_archive', message: expect.stringMatching(/kilograms/), count: 1 });
  });

  it('warns in the job result when nothing in the archive tells the unit, naming no file and no value', async () => {
    const user = await signUp(sut.app);
    const job = await importAs(user, [{ name: `${DIR}/weight-2026-05-01.json`, data: NO_BMI }]);
    expect(await weights(user)).toEqual([['2026-05-01', 31.978]]);
    const warning = job.result?.warnings?.find((w) => w.code === 'weight_read_as_pounds');
    expect(warning).toEqual({ code: 'weight_read_as_pounds', message: expect.stringMatching(/pounds/), count: 1 });
    const text = JSON.stringify(job.result?.warnings);
    expect(text).not.toMatch(/weight-2026|70\.5|31\.9|Aria|Takeout/);
  });

  it('says nothing about units when the person chose one', async () => {
    const user = await signUp(sut.app);
    const job = await importAs(user, [{ name: `${DIR}/weight-2026-05-01.json`, data: NO_BMI }], { weightUnit: 'kg' });
    expect(await weights(user)).toEqual([['2026-05-01', 70.5]]);
    expect(job.result?.warnings ?? []).toEqual([]);
  });

  it('carries the no-time-zone warning of an import given none', async () => {
    const user = await signUp(sut.app);
    const mp = multipart(
      { name: 'kg.zip', type: 'application/zip', data: buildZip([{ name: `${DIR}/weight-2026-04-01.json`, data: KG_WITH_BMI }]) },
      {},
      user.headers,
    );
    const res = await sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    const job = (await waitJob(sut.app, user.headers, (res.json() as { jobId: string }).jobId)) as Job;
    expect(job.result?.warnings?.map((w) => w.code)).toEqual(['no_time_zone']);
  });
});
