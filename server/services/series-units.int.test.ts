import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSamples, emptyChunk, type DayChunk } from '../../integrations/series/day-chunk.js';
import type { QuantitySample } from '../../integrations/types.js';
import { exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';
import { buildZip } from '../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, openTestDatabase, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { sealNewChunk } from '../codec/series.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import type { SessionContext } from './keyring.js';
import { SAMPLES_LEFT_OUT, SeriesService } from './series.service.js';

const HR = 'HKQuantityTypeIdentifierHeartRate';
const LEFT_OUT = 'samples left out (unit or value not usable)';

const hr = (iso: string, value: number, unit: string, sourceName = 'Watch'): QuantitySample => {
  const ms = Date.parse(iso);
  return { type: HR, unit, startMs: ms, endMs: ms, localDate: iso.slice(0, 10), value, sourceName };
};
const day = (date: string, unit: string, samples: QuantitySample[]): DayChunk => addSamples(emptyChunk(HR, date, unit), samples);

describe.each(dbTargets())('heart rate stored as "/min" and as "count/min" (%s)', (target) => {
  let dispose: () => Promise<void>;
  let sut: SeriesService;
  let auth: AuthService;
  let n = 0;

  beforeAll(async () => {
    const t = await openTestDatabase(target);
    dispose = t.dispose;
    auth = new AuthService(new UsersRepository(t.db), new SessionsRepository(t.db), new AuditRepository(t.db), { sessionTtlMs: 3_600_000 });
    sut = new SeriesService(new SeriesRepository(t.db));
  });
  afterAll(() => dispose());

  const user = async (): Promise<SessionContext> => (await auth.register(`units-${n++}@example.com`, 'a long test passphrase')).session.context;
  const seal = (s: SessionContext, c: DayChunk) => sealNewChunk(s.keys.subkey('series'), s.userId, c);

  it('merges a day that returns in the other spelling, and counts what it adds', async () => {
    const s = await user();
    // What Fitbit stored before it wrote UCUM, then an Apple export of the same day.
    await sut.store(s, [day('2024-06-01', 'count/min', [hr('2024-06-01T08:00:00Z', 60, 'count/min', 'Fitbit')])]);
    const apple = day('2024-06-01', '/min', [hr('2024-06-01T09:00:00Z', 100, '/min'), hr('2024-06-01T10:00:00Z', 101, '/min')]);
    expect(await sut.storeSealed(s, [seal(s, apple)])).toEqual({ [HR]: 2 });
    const r = await sut.days(s, { type: HR });
    expect(r.unit).toBe('/min');
    expect(r.days).toEqual([{ date: '2024-06-01', count: 3, min: 60, max: 101, mean: 87, sum: 261 }]);
  });

  it('reads days stored in either spelling as one series, in UCUM', async () => {
    const s = await user();
    await sut.store(s, [
      day('2024-06-01', 'count/min', [hr('2024-06-01T08:00:00Z', 60, 'count/min', 'Fitbit')]),
      day('2024-06-05', '/min', [hr('2024-06-05T08:00:00Z', 102, '/min')]),
    ]);
    const r = await sut.days(s, { type: HR, from: '2024-01-01', to: '2024-12-31' });
    expect(r.unit).toBe('/min');
    expect(r.days.map((d) => [d.date, d.mean])).toEqual([
      ['2024-06-01', 60],
      ['2024-06-05', 102],
    ]);
    const m = await sut.months(s, { type: HR, from: '2024-01-01', to: '2024-12-31' });
    expect(m.months.map((x) => [x.month, x.count, x.sum])).toEqual([['2024-06-01', 2, 162]]);
  });

  it('counts the samples of a returning day whose unit converts to nothing stored as left out', async () => {
    const s = await user();
    await sut.store(s, [day('2024-06-01', '/min', [hr('2024-06-01T08:00:00Z', 60, '/min')])]);
    const odd = day('2024-06-01', 'kg', [hr('2024-06-01T09:00:00Z', 70, 'kg'), hr('2024-06-01T10:00:00Z', 71, 'kg')]);
    expect(await sut.storeSealed(s, [seal(s, odd)])).toEqual({ [SAMPLES_LEFT_OUT]: 2 });
    // Nothing new is not something left out.
    const again = day('2024-06-01', 'count/min', [hr('2024-06-01T08:00:00Z', 60, 'count/min')]);
    expect(await sut.storeSealed(s, [seal(s, again)])).toEqual({});
    expect((await sut.days(s, { type: HR })).days).toEqual([{ date: '2024-06-01', count: 1, min: 60, max: 60, mean: 60, sum: 60 }]);
  });

  it('does not let a day stored without a unit decide the series’ unit', async () => {
    const s = await user();
    // What an Apple record without a unit left behind before the importer left those out.
    await sut.store(s, [
      day('2024-06-01', '', [hr('2024-06-01T08:00:00Z', 60, '')]),
      day('2024-06-02', 'count/min', [hr('2024-06-02T08:00:00Z', 72, 'count/min')]),
      day('2024-06-03', '/min', [hr('2024-06-03T08:00:00Z', 74, '/min')]),
    ]);
    const r = await sut.days(s, { type: HR });
    expect(r.unit).toBe('/min');
    expect(r.days.map((d) => [d.date, d.mean])).toEqual([
      ['2024-06-02', 72],
      ['2024-06-03', 74],
    ]);
    // A series with no unit at all is still shown as it is.
    const t = await user();
    await sut.store(t, [day('2024-06-01', '', [hr('2024-06-01T08:00:00Z', 60, '')])]);
    expect(await sut.days(t, { type: HR })).toMatchObject({ unit: '', days: [{ date: '2024-06-01', mean: 60 }] });
  });
});

type Job = { id: string; status: string; result?: { imported: Record<string, number> }; error?: string };

describe.each(dbTargets())('heart rate from Apple Health and Fitbit in one vault, over HTTP (%s)', (target) => {
  let server: TestServer;
  const app = (): FastifyInstance => server.app;
  beforeAll(async () => {
    server = await startTestServer(target);
  });
  afterAll(() => server.dispose());

  const waitJob = async (headers: Record<string, string>, id: string): Promise<Job> => {
    for (let i = 0; i < 1200; i++) {
      const job = (await app().inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as Job;
      if (job.status === 'done' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} did not finish`);
  };
  const upload = async (headers: Record<string, string>, url: string, name: string, data: Buffer, fields: Record<string, string> = {}) => {
    const mp = multipart({ name, type: 'application/octet-stream', data }, fields, headers);
    const res = await app().inject({ method: 'POST', url, headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    const job = await waitJob(headers, (res.json() as { jobId: string }).jobId);
    expect(job.status, job.error).toBe('done');
    // The export's <Me> profile is a record of its own.
    const { HKCharacteristics: _profile, ...imported } = job.result?.imported ?? {};
    return imported;
  };
  const apple = (headers: Record<string, string>, body: string) => upload(headers, '/api/import/apple-health', 'export.xml', Buffer.from(exportXml(body)));
  // 24 readings on 2024-06-01 (UTC), as Fitbit's classic intraday JSON writes them.
  const fitbitZip = buildZip([
    {
      name: 'Takeout/Fitbit/Global Export Data/heart_rate-2024-06-01.json',
      data: JSON.stringify(
        Array.from({ length: 24 }, (_, h) => ({ dateTime: `06/01/24 ${String(h).padStart(2, '0')}:00:00`, value: { bpm: 60 + h, confidence: 2 } })),
      ),
    },
  ]);
  const fitbit = (headers: Record<string, string>) => upload(headers, '/api/import/fitbit', 'takeout.zip', fitbitZip, { timezone: 'UTC' });
  const series = async (headers: Record<string, string>) => {
    const res = await app().inject({ method: 'GET', url: `/api/records/series?type=${HR}&from=2024-01-01&to=2024-12-31`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { unit: string | null; days: Array<{ date: string; count: number }> };
  };
  const appleHr = (v: number, at: string) => recordXml(HR, 'count/min', v, 'Watch', at);

  it('shows both sources’ days whichever came first, and counts every sample it keeps', async () => {
    const a = (await signUp(app())).headers;
    expect(await fitbit(a)).toEqual({ [HR]: 24 });
    expect(await apple(a, appleHr(102, '2024-06-05 12:31:00 +0000'))).toEqual({ [HR]: 1 });
    expect(await series(a)).toEqual({
      type: HR,
      unit: '/min',
      days: [expect.objectContaining({ date: '2024-06-01', count: 24 }), expect.objectContaining({ date: '2024-06-05', count: 1 })],
    });

    const b = (await signUp(app())).headers;
    expect(
      await apple(b, appleHr(100, '2024-06-01 12:30:00 +0000') + appleHr(101, '2024-06-01 12:31:00 +0000') + appleHr(102, '2024-06-05 12:31:00 +0000')),
    ).toEqual({ [HR]: 3 });
    expect(await fitbit(b)).toEqual({ [HR]: 24 });
    const sb = await series(b);
    expect(sb.unit).toBe('/min');
    expect(sb.days.map((d) => [d.date, d.count])).toEqual([
      ['2024-06-01', 26],
      ['2024-06-05', 1],
    ]);
  });

  it('reports a returning day in a unit that converts to nothing as left out, not as nothing', async () => {
    const h = (await signUp(app())).headers;
    expect(await apple(h, appleHr(60, '2024-06-01 08:00:00 +0000'))).toEqual({ [HR]: 1 });
    // A third-party app that wrote heart rate in a unit of mass.
    expect(await apple(h, recordXml(HR, 'kg', 70, 'Odd app', '2024-06-01 09:00:00 +0000'))).toEqual({ [LEFT_OUT]: 1 });
  });

  it('leaves out and counts Apple records without a unit or a type, and the series keeps its unit', async () => {
    const h = (await signUp(app())).headers;
    const xml =
      appleHr(60, '2024-06-01 09:00:00 +0000').replace(' unit="count/min"', '') +
      appleHr(72, '2024-06-01 10:00:00 +0000') +
      appleHr(74, '2024-06-02 10:00:00 +0000') +
      appleHr(71, '2024-06-02 11:00:00 +0000').replace(`type="${HR}" `, '');
    expect(await apple(h, xml)).toEqual({ [HR]: 2, [LEFT_OUT]: 2 });
    const s = await series(h);
    expect(s.unit).toBe('/min');
    expect(s.days.map((d) => [d.date, d.count])).toEqual([
      ['2024-06-01', 1],
      ['2024-06-02', 1],
    ]);
  });
});
