import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { appleDate, exportXml, recordXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart } from '../../../test-support/server/harness.js';
import { parseProm } from '../../../test-support/server/prom.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

type Headers = Record<string, string>;
interface Card {
  key: string;
  unit: string | null;
  from: string;
  to: string;
  resolution: string;
  first: string;
  last: string;
  series: Array<{
    label: string;
    code: string;
    points: Array<{ date: string; days: number; count: number; min: number; max: number; mean: number; sum: number }>;
  }>;
}
interface Dashboard {
  available: Array<{ key: string; first: string; last: string }>;
  cards: Card[];
}

async function importApple(app: FastifyInstance, headers: Headers, name: string, data: Buffer) {
  const mp = multipart({ name, type: 'text/xml', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as { jobId: string }).jobId;
  const end = Date.now() + 60_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string; error?: string };
    if (job.status === 'done') return;
    if (job.status === 'failed' || Date.now() > end) throw new Error(`import ${job.status}: ${job.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A watch's year: a resting heart rate each morning and steps in 10-minute samples from two
 * devices, ending 2026-03-31, months before "today", at -0500 like a New York phone.
 */
function yearOfWatch(fromDay: number, toDay: number): string {
  const off = -300;
  const start = Date.UTC(2025, 3, 1, 5); // 2025-04-01 00:00 local
  let body = '';
  for (let d = fromDay; d < toDay; d++) {
    const day = start + d * 86_400_000;
    body += recordXml('HKQuantityTypeIdentifierRestingHeartRate', 'count/min', 55 + (d % 10), 'Watch', appleDate(day + 7 * 3600_000, off));
    for (let h = 8; h < 20; h += 2) {
      body += recordXml(
        'HKQuantityTypeIdentifierStepCount',
        'count',
        400 + ((d * 7 + h) % 50),
        'Watch',
        appleDate(day + h * 3600_000, off),
        appleDate(day + h * 3600_000 + 600_000, off),
      );
      body += recordXml(
        'HKQuantityTypeIdentifierStepCount',
        'count',
        300,
        'iPhone',
        appleDate(day + h * 3600_000, off),
        appleDate(day + h * 3600_000 + 600_000, off),
      );
    }
  }
  return exportXml(body);
}

describe.each(dbTargets())('health dashboard on %s', (target) => {
  const sut = signedInSuite(target);
  const app = () => sut.app;
  const get = async (query = '') => {
    const res = await app().inject({ method: 'GET', url: `/api/records/dashboard${query}`, headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Dashboard;
  };

  beforeAll(async () => {
    // A real export (opendroid/hk, MIT): weight in lb in 2018-2020, steps in 2014.
    await importApple(
      app(),
      sut.headers,
      'export.xml',
      readFileSync(new URL('../../../integrations/apple-health/fixtures/opendroid-hk_sampleexport-2.xml', import.meta.url)),
    );
    // A year in one export: 730 (type, day) chunks in one merge, which aborted embedded PGlite
    // while the merge looked its keys up with a row-constructor IN list (series.repository.ts).
    await importApple(app(), sut.headers, 'export.xml', Buffer.from(yearOfWatch(0, 365)));
  }, 120_000);

  it('shows a card for every metric with data, each opening on the last 30 days that have data', async () => {
    const d = await get();
    expect(d.available.map((a) => a.key)).toEqual(['resting_hr', 'weight', 'bmi', 'steps', 'distance', 'workouts']);
    const hr = d.cards.find((c) => c.key === 'resting_hr')!;
    expect(hr).toMatchObject({ from: '2026-03-02', to: '2026-03-31', resolution: 'day', first: '2025-04-01', last: '2026-03-31', unit: '/min' });
    expect(hr.series[0]!.points).toHaveLength(30);
    const weight = d.cards.find((c) => c.key === 'weight')!;
    // Its last sample is from October 2020: the card opens there, not on an empty "today".
    expect(weight).toMatchObject({ from: '2020-09-06', to: '2020-10-05', first: '2016-02-09', unit: '[lb_av]' });
    expect(weight.series[0]!.points.map((p) => p.mean)).toEqual([140]);
    // Steps from two devices: the best single source per day (watch: 6 samples), never both.
    const steps = d.cards.find((c) => c.key === 'steps')!;
    const last = steps.series[0]!.points.at(-1)!;
    expect(last.date).toBe('2026-03-31');
    expect(last.sum).toBeGreaterThan(6 * 400);
    expect(last.sum).toBeLessThan(6 * 450);
  });

  it('long ranges come back as weekly or monthly points rolled up from the daily stats', async () => {
    const quarter = await get('?from=2025-10-01&to=2026-03-31');
    const weekly = quarter.cards.find((c) => c.key === 'resting_hr')!;
    expect(weekly.resolution).toBe('week');
    expect(weekly.series[0]!.points.reduce((n, p) => n + p.days, 0)).toBe(182);
    expect(weekly.series[0]!.points[0]!.date).toBe('2025-09-29'); // the Monday of its week
    // A year from mid-month: partial months at both ends from daily stats, whole ones from roll-ups.
    for (let round = 0; round < 2; round++) {
      const year = await get('?from=2025-04-15&to=2026-03-20');
      const hr = year.cards.find((c) => c.key === 'resting_hr')!;
      expect(hr.resolution).toBe('month');
      expect(hr.series[0]!.points.map((p) => p.days)).toEqual([16, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 20]);
    }
    const all = await get('?from=2014-01-01&to=2026-12-31');
    const steps = all.cards.find((c) => c.key === 'steps')!;
    expect(steps.resolution).toBe('month');
    const daily = (
      await app().inject({
        method: 'GET',
        url: '/api/records/series?type=HKQuantityTypeIdentifierStepCount&from=2025-04-01&to=2025-04-30',
        headers: sut.headers,
      })
    ).json() as { days: Array<{ sum: number }> };
    const april = steps.series[0]!.points.find((p) => p.date === '2025-04-01')!;
    expect(april.days).toBe(30);
    expect(april.sum).toBeCloseTo(
      daily.days.reduce((n, x) => n + x.sum, 0),
      6,
    );
    // Workouts (records, not series): how many and their minutes per month, on their local day.
    const workouts = all.cards.find((c) => c.key === 'workouts')!;
    expect(workouts).toMatchObject({ unit: 'min', resolution: 'month', last: '2018-02-10' });
    expect(workouts.series[0]!.points.map((p) => [p.date, p.count, Math.round(p.sum)])).toEqual([
      ['2016-02-01', 3, 80],
      ['2018-02-01', 2, 243],
    ]);
    const rhr = all.cards.find((c) => c.key === 'resting_hr')!.series[0]!.points;
    expect(rhr.find((p) => p.date === '2025-04-01')).toMatchObject({ min: 55, max: 64 });
    // A new day in a rolled-up month replaces its roll-up; the other series keep theirs.
    const before = all.cards.find((c) => c.key === 'resting_hr')!.series[0]!.points.find((p) => p.date === '2025-06-01')!;
    const june = async () =>
      (await get('?from=2014-01-01&to=2026-12-31')).cards.find((c) => c.key === 'weight')!.series[0]!.points.find((p) => p.date === '2025-06-01');
    const add = (day: string, value: number) =>
      app().inject({
        method: 'POST',
        url: '/api/records/manual',
        headers: sut.headers,
        payload: { kind: 'weight', value, unit: 'lb', at: `${day}T08:00:00-05:00` },
      });
    expect((await add('2025-06-10', 150)).statusCode).toBe(201);
    expect(await june()).toMatchObject({ days: 1, mean: 150 });
    expect((await add('2025-06-20', 152)).statusCode).toBe(201);
    expect(await june()).toMatchObject({ days: 2, mean: 151 });
    expect(
      (await get('?from=2014-01-01&to=2026-12-31')).cards.find((c) => c.key === 'resting_hr')!.series[0]!.points.find((p) => p.date === '2025-06-01'),
    ).toEqual(before);
    const dump = await sut.server.dumpDatabase();
    expect(dump).toMatch(/-- series_years\n\S/);
  });

  it('a range reaching back to year 1 costs what the years with data cost, and years before 1000 are ordinary years', async () => {
    const queries = async () =>
      parseProm((await app().inject({ method: 'GET', url: '/metrics' })).body)
        .filter((s) => s.name === 'cv_db_query_duration_seconds_count')
        .reduce((n, s) => n + s.value, 0);
    const resting = (d: Dashboard) => d.cards.find((c) => c.key === 'resting_hr')!;
    // Roll-ups of the years with data exist after this (the test above may have run first or not).
    const data = resting(await get('?from=2014-01-01&to=2026-12-31'));
    const before = await queries();
    const decade = resting(await get('?from=2014-01-01&to=2026-12-31'));
    const perRequest = (await queries()) - before;
    const ages = await get('?from=0001-01-01&to=9999-12-31');
    // Was one database transaction per empty year per card, on every request: ~10,000 each.
    expect((await queries()) - before - perRequest).toBeLessThan(perRequest + 40);
    expect(decade).toEqual(data);
    expect(resting(ages).series[0]!.points).toEqual(data.series[0]!.points);
    expect(resting(ages).resolution).toBe('month');
    // Year 13's months were read as 1913's, and its roll-up as day "13-01-01": 500.
    const antiquity = await get('?from=0013-01-01&to=0013-12-31');
    expect(antiquity.cards.length).toBeGreaterThan(0);
    for (const card of antiquity.cards)
      expect(
        card.series.flatMap((s) => s.points),
        card.key,
      ).toEqual([]);
    expect(resting(await get('?from=0099-02-15&to=0100-03-20')).series[0]!.points).toEqual([]);
  });

  it('cards chosen and ordered by the person, weight in kg as a sealed preference', async () => {
    const put = await app().inject({
      method: 'PUT',
      url: '/api/preferences',
      headers: sut.headers,
      payload: { cards: ['steps', 'weight', 'resting_hr'], hidden: ['bmi', 'distance'], units: { weight: 'kg' } },
    });
    expect(put.statusCode, put.body).toBe(200);
    const d = await get();
    expect(d.cards.map((c) => c.key)).toEqual(['steps', 'weight', 'resting_hr', 'workouts']);
    expect(d.available.map((a) => a.key).slice(0, 3)).toEqual(['steps', 'weight', 'resting_hr']);
    const weight = d.cards.find((c) => c.key === 'weight')!;
    expect(weight.unit).toBe('kg');
    // Its latest 30 days now hold the two hand entries of June 2025 (150 and 152 lb).
    expect(weight.series[0]!.points.map((p) => Math.round(p.mean * 10) / 10)).toEqual([68, 68.9]);
    // A metric neither ordered nor hidden (data that arrives later) shows after the chosen ones.
    await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { hidden: ['bmi'] } });
    expect((await get()).cards.map((c) => c.key)).toEqual(['steps', 'weight', 'resting_hr', 'distance', 'workouts']);
    await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { hidden: ['bmi', 'distance'] } });
    // The preference is ciphertext at rest.
    const dump = await sut.server.dumpDatabase();
    expect(dump).not.toMatch(/resting_hr|"kg"/);
    expect((await app().inject({ method: 'GET', url: '/api/preferences', headers: sut.headers })).json()).toEqual({
      cards: ['steps', 'weight', 'resting_hr'],
      hidden: ['bmi', 'distance'],
      units: { weight: 'kg' },
    });
  });

  it('refuses an unknown card and a reversed range', async () => {
    const bad = await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { cards: ['horoscope'] } });
    expect(bad.statusCode).toBe(400);
    const range = await app().inject({ method: 'GET', url: '/api/records/dashboard?from=2026-02-01&to=2026-01-01', headers: sut.headers });
    expect(range.json()).toMatchObject({ error: { code: 'invalid_range' } });
  });
});
