import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLEEP_LOG_SAMPLE, buildTgz, buildZip } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';

type Job = { id: string; kind: string; status: string; result?: { imported: Record<string, number> }; error?: string };

const json = (v: unknown) => JSON.stringify(v);
const STEPS_CSV = 'timestamp,steps,data source\n2024-03-10T04:30:00Z,40,Charge 6\n2024-03-10T05:30:00Z,10,Charge 6\n';
// The same walk recorded by the classic JSON export too: it must not be counted twice.
const STEPS_JSON = json([{ dateTime: '03/10/24 04:30:00', value: '40' }]);
const SLEEP = json([SLEEP_LOG_SAMPLE]);

const archiveEntries = [
  { name: 'Takeout/Fitbit/Physical Activity_GoogleData/steps_2024-03-01.csv', data: STEPS_CSV },
  { name: 'Takeout/Fitbit/Global Export Data/steps-2024-03-10.json', data: STEPS_JSON },
  { name: 'Takeout/Fitbit/Global Export Data/sleep-2024-03-09.json', data: SLEEP },
  { name: 'Takeout/Fitbit/Global Export Data/mystery-file.json', data: '{}' },
];

describe.each(dbTargets())('Fitbit archive import over HTTP (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const upload = async (app: FastifyInstance, name: string, data: Buffer, fields: Record<string, string>) => {
    const mp = multipart({ name, type: 'application/octet-stream', data }, fields, user.headers);
    return app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
  };
  const waitJob = async (id: string): Promise<Job> => {
    for (let i = 0; i < 600; i++) {
      const job = (await sut.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers: user.headers })).json() as Job;
      if (job.status === 'done' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  };
  const series = async (type: string) =>
    (await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${type}&from=2024-03-01&to=2024-03-31`, headers: user.headers })).json();

  it.each([
    ['zip', () => Promise.resolve(buildZip(archiveEntries)), 'takeout.zip'],
    ['tgz', () => buildTgz(archiveEntries), 'takeout.tgz'],
  ] as const)('imports a %s archive in the user’s time zone, once, with unknown files reported', async (_f, build, name) => {
    const res = await upload(sut.app, name, await build(), { timezone: 'America/New_York' });
    expect(res.statusCode, res.body).toBe(202);
    const job = await waitJob(res.json().jobId);
    expect(job.status, job.error).toBe('done');
    expect(job.kind).toBe('fitbit');

    const steps = await series('HKQuantityTypeIdentifierStepCount');
    // 04:30Z on 10 March is 23:30 on 9 March in New York.
    expect(steps.days).toEqual([
      { date: '2024-03-09', count: 1, min: 40, max: 40, mean: 40, sum: 40 },
      { date: '2024-03-10', count: 1, min: 10, max: 10, mean: 10, sum: 10 },
    ]);
    const sleep = await series('HKCategoryTypeIdentifierSleepAnalysis');
    expect(sleep.days).toEqual([{ date: '2024-03-09', count: 1, min: 420, max: 420, mean: 420, sum: 420 }]);
    const items = (await sut.app.inject({ method: 'GET', url: '/api/items?source=fitbit', headers: user.headers })).json().items;
    expect(items.map((i: { title: string }) => i.title)).toEqual(['Sleep 7 h (23:30–07:00)']);
  });

  it('refuses what is not an archive, a bad time zone, and unsafe entries', async () => {
    const notArchive = await upload(sut.app, 'notes.txt', Buffer.from('hello there, not an archive at all, padding padding padding padding'), {});
    expect(notArchive.statusCode).toBe(415);
    const badTz = await upload(sut.app, 'takeout.zip', buildZip(archiveEntries), { timezone: 'Mars/Olympus' });
    expect(badTz.statusCode).toBe(400);
    expect(badTz.json().error.code).toBe('bad_timezone');

    const slip = await upload(sut.app, 'evil.zip', buildZip([...archiveEntries, { name: '../../etc/evil.json', data: '{}' }]), {});
    expect(slip.statusCode).toBe(202);
    const job = await waitJob(slip.json().jobId);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/unsafe/i);
    expect((await sut.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
  });
});
