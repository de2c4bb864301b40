/**
 * A dashboard card merges every code a metric is written under. A reading without a unit (a
 * portal's `valueQuantity: { value: 99 }`) under one of those codes must never decide the card's
 * unit, nor be shown in another code's unit: the line takes its unit from readings that have one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../../../test-support/server/harness.js';
import { bundle, usCoreLab } from '../../../test-support/server/health-data.js';
import { importFhir } from '../../../test-support/server/jobs.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

const SERUM = { loinc: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', unit: 'mg/dL' };
const BLOOD = { loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL' };

type Card = { key: string; unit: string | null; series: Array<{ code: string; points: Array<{ date: string; mean: number }> }> };

describe.each(dbTargets())('a glucose card with one reading of unknown unit under another code (%s)', (target) => {
  const sut = signedInSuite(target);
  const glucoseCard = async (from: string, to: string) => {
    const res = await sut.app.inject({ method: 'GET', url: `/api/records/dashboard?from=${from}&to=${to}`, headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { cards: Card[] }).cards.find((c) => c.key === 'glucose')!;
  };

  beforeAll(async () => {
    const unitless = usCoreLab({ ...BLOOD, id: 'glu-blood', date: '2024-05-20', value: 6 });
    unitless.valueQuantity = { value: 6 };
    const job = await importFhir(
      sut.app,
      sut.headers,
      bundle([
        usCoreLab({ ...SERUM, id: 'glu-1', date: '2024-05-02', value: 90 }),
        usCoreLab({ ...SERUM, id: 'glu-2', date: '2024-05-10', value: 110 }),
        unitless,
      ]),
    );
    expect(job.status, job.error).toBe('done');
  });

  it('daily points keep the unit of the readings that have one, and leave the unit-less day out', async () => {
    const card = await glucoseCard('2024-05-01', '2024-05-30');
    expect(card.unit).toBe('mg/dL');
    expect(card.series[0]!.code).toBe('2345-7');
    expect(card.series[0]!.points.map((p) => [p.date, p.mean])).toEqual([
      ['2024-05-02', 90],
      ['2024-05-10', 110],
    ]);
  });

  it('monthly points do too', async () => {
    const card = await glucoseCard('2024-01-01', '2024-12-31');
    expect(card.unit).toBe('mg/dL');
    expect(card.series[0]!.points.map((p) => [p.date, p.mean])).toEqual([['2024-05-01', 100]]);
  });

  it('with the preferred unit, the readings are converted and the unit-less one is not', async () => {
    const put = await sut.app.inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { glucose: 'mmol/L' } } });
    expect(put.statusCode, put.body).toBe(200);
    const card = await glucoseCard('2024-05-01', '2024-05-30');
    expect(card.unit).toBe('mmol/L');
    expect(card.series[0]!.points.map((p) => Math.round(p.mean * 10) / 10)).toEqual([5, 6.1]);
  });
});
