/**
 * Fitbit's classic weight JSON over HTTP: its weights carry no unit, so the BMI beside them tells
 * it (the real sample below is kilograms, which were read as pounds: 56.7 kg stored as 25.7 kg),
 * and the `weightUnit` field overrides that. Also what such an import counts: two nights of
 * sleep are two sessions, not their records plus their samples.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob } from '../../../test-support/server/jobs.js';

type User = Awaited<ReturnType<typeof signUp>>;
const fixture = (name: string) => readFileSync(new URL(`../../../integrations/fitbit/fixtures/${name}`, import.meta.url));

const BODY_MASS = 'HKQuantityTypeIdentifierBodyMass';
const SLEEP = 'HKCategoryTypeIdentifierSleepAnalysis';
const WEIGHTS = fixture('fitbit-body-log-weight.json');
const archive = (weights: Buffer | string) =>
  buildZip([
    { name: 'Takeout/Fitbit/Global Export Data/weight-2015-05-13.json', data: weights },
    { name: 'Takeout/Fitbit/Global Export Data/sleep-2016-12-13.json', data: fixture('fitbit-sleep-date-range.json') },
  ]);
/** The same weights with nothing to tell their unit. */
const WEIGHTS_WITHOUT_BMI = JSON.stringify({
  weight: (JSON.parse(WEIGHTS.toString('utf8')) as { weight: Array<Record<string, unknown>> }).weight.map(({ bmi: _bmi, ...rest }) => rest),
});

describe.each(dbTargets())('Fitbit weight units over HTTP (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const upload = (user: User, fields: Record<string, string>, weights: Buffer | string = WEIGHTS) => {
    const mp = multipart({ name: 'takeout.zip', type: 'application/zip', data: archive(weights) }, fields, user.headers);
    return sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
  };
  const importAs = async (user: User, fields: Record<string, string>, weights?: Buffer | string) => {
    const res = await upload(user, fields, weights);
    expect(res.statusCode, res.body).toBe(202);
    const job = await waitJob(sut.app, user.headers, (res.json() as { jobId: string }).jobId);
    expect(job.status, job.error).toBe('done');
    return job;
  };
  const weights = async (user: User) => {
    const res = await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${BODY_MASS}&from=2015-05-01&to=2015-05-31`, headers: user.headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { unit: string; days: Array<{ date: string; sum: number }> };
    return { unit: body.unit, days: body.days.map((d) => [d.date, d.sum]) };
  };

  it('reads kilograms where the BMI says so, and counts each night of sleep once', async () => {
    const user = await signUp(sut.app);
    const job = await importAs(user, { timezone: 'Europe/Berlin' });
    expect(await weights(user)).toEqual({
      unit: 'kg',
      days: [
        ['2015-05-13', 56.7],
        ['2015-05-14', 55.9],
        ['2015-05-22', 58.1],
        ['2015-05-24', 57.2],
      ],
    });
    expect(job.result!.imported).toMatchObject({ [BODY_MASS]: 4, [SLEEP]: 2 });
  });

  it('takes the weightUnit field over the BMI, and where nothing tells the unit', async () => {
    const KG = [
      ['2015-05-13', 56.7],
      ['2015-05-14', 55.9],
      ['2015-05-22', 58.1],
      ['2015-05-24', 57.2],
    ];
    const toldKg = await signUp(sut.app);
    await importAs(toldKg, { weightUnit: 'kg', timezone: 'Europe/Berlin' }, WEIGHTS_WITHOUT_BMI);
    expect((await weights(toldKg)).days).toEqual(KG);

    const toldLb = await signUp(sut.app);
    await importAs(toldLb, { weightUnit: 'lb', timezone: 'Europe/Berlin' });
    expect((await weights(toldLb)).days).toEqual([
      ['2015-05-13', 25.719],
      ['2015-05-14', 25.356],
      ['2015-05-22', 26.354],
      ['2015-05-24', 25.945],
    ]);
  });

  it('refuses a weightUnit other than kg or lb, and starts no job', async () => {
    const user = await signUp(sut.app);
    for (const unit of ['stone', 'KG', 'kg;tz=UTC']) {
      const res = await upload(user, { weightUnit: unit });
      expect(res.statusCode, unit).toBe(400);
      expect(res.json().error.code, unit).toBe('invalid_request');
    }
    const jobs = await sut.app.inject({ method: 'GET', url: '/api/jobs', headers: user.headers });
    expect(jobs.json().jobs).toEqual([]);
  });
});
