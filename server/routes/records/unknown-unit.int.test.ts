/**
 * A result sent without a unit (real portals do: `valueQuantity: { value: 99 }`) is a value of
 * unknown unit: never shown in the unit of the results around it, nor converted to the person's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../../../test-support/server/harness.js';
import { bundle, usCoreLab } from '../../../test-support/server/health-data.js';
import { importFhir } from '../../../test-support/server/jobs.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

const GLUCOSE = { loinc: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', unit: 'mg/dL' };

/** A glucose result as a portal sends it with no unit at all. */
function unitless(id: string, date: string, value: number): Record<string, unknown> {
  const r = usCoreLab({ ...GLUCOSE, id, date, value });
  r.valueQuantity = { value };
  return r;
}

interface Summary {
  code: string;
  unit: string;
  count: number;
  latest: { value: number; unit?: string; date: string };
  trend?: string;
}

describe.each(dbTargets())('a result without a unit (%s)', (target) => {
  const sut = signedInSuite(target);
  const get = async <T>(url: string): Promise<T> => {
    const res = await sut.app.inject({ method: 'GET', url, headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as T;
  };
  const glucose = async () => (await get<{ labs: Summary[] }>('/api/records/labs')).labs.find((l) => l.code === '2345-7')!;

  beforeAll(async () => {
    const job = await importFhir(
      sut.app,
      sut.headers,
      bundle([
        unitless('glu-0', '2024-02-01', 101),
        usCoreLab({ ...GLUCOSE, id: 'glu-1', date: '2024-03-29', value: 95 }),
        unitless('glu-2', '2024-05-01', 99),
      ]),
    );
    expect(job.status).toBe('done');
    const put = await sut.app.inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { glucose: 'mmol/L' } } });
    expect(put.statusCode, put.body).toBe(200);
  });

  it('the lab list gives the latest value its own unit, never the preferred one', async () => {
    const g = await glucose();
    expect(g).toMatchObject({ unit: 'mmol/L', count: 3, latest: { value: 99, unit: '' } });
    expect(g.trend).toBeUndefined();
  });

  it('a latest value in the group unit says so', async () => {
    const job = await importFhir(sut.app, sut.headers, bundle([usCoreLab({ ...GLUCOSE, id: 'glu-3', date: '2024-06-01', value: 90 })]));
    expect(job.status).toBe('done');
    expect(await glucose()).toMatchObject({ unit: 'mmol/L', count: 4, latest: { value: 5, unit: 'mmol/L' } });
  });

  it('the series and the dashboard call the unit "" as the labs do, and a day of unknown unit hides no other', async () => {
    const only = await get<{ unit: string | null; days: Array<{ date: string; mean: number }> }>(
      '/api/records/series?type=2345-7&from=2024-05-01&to=2024-05-01',
    );
    expect(only).toMatchObject({ unit: '', days: [{ date: '2024-05-01', mean: 99 }] });
    const all = await get<{ unit: string | null; days: Array<{ date: string }> }>('/api/records/series?type=2345-7&from=2024-01-01&to=2024-05-31');
    expect(all.unit).toBe('mg/dL');
    expect(all.days.map((d) => d.date)).toEqual(['2024-03-29']);
    const dash = await get<{ cards: Array<{ key: string; unit: string | null }> }>('/api/records/dashboard?from=2024-04-15&to=2024-05-14');
    expect(dash.cards.find((c) => c.key === 'glucose')!.unit).toBe('');
  });

  it('monthly points leave out months of unknown unit, even the first, and convert the others', async () => {
    const dash = await get<{ cards: Array<{ key: string; unit: string | null; resolution: string; series: Array<{ points: Array<{ date: string }> }> }> }>(
      '/api/records/dashboard?from=2024-01-01&to=2024-12-31',
    );
    const card = dash.cards.find((c) => c.key === 'glucose')!;
    expect(card).toMatchObject({ unit: 'mmol/L', resolution: 'month' });
    expect(card.series[0]!.points.map((p) => p.date)).toEqual(['2024-03-01', '2024-06-01']);
  });
});
