/**
 * A reading dated after today (an EHR's typo for 2999-12-31) stays stored and can be read with
 * from/to, but never sets where a card opens: that would hide every real reading.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { appleDate, exportXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets } from '../../../test-support/server/harness.js';
import { bundle } from '../../../test-support/server/health-data.js';
import { importApple, importFhir } from '../../../test-support/server/jobs.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

const VITALS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] };
const vital = (id: string, loinc: string, at: string, value: number, unit: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [VITALS],
  code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
  effectiveDateTime: at,
  valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
});

const workout = (startMs: number) =>
  `  <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="30" durationUnit="min" sourceName="Watch" sourceVersion="10.1" creationDate="${appleDate(startMs + 1_800_000, 0)}" startDate="${appleDate(startMs, 0)}" endDate="${appleDate(startMs + 1_800_000, 0)}"/>\n`;

interface Card {
  key: string;
  from: string;
  to: string;
  first: string;
  last: string;
  series: Array<{ points: Array<{ date: string; mean: number; count: number }> }>;
}
interface Dashboard {
  available: Array<{ key: string; first: string; last: string; later?: string }>;
  cards: Card[];
}

describe.each(dbTargets())('readings dated after today (%s)', (target) => {
  const sut = signedInSuite(target);
  const get = async (query = ''): Promise<Dashboard> => {
    const res = await sut.app.inject({ method: 'GET', url: `/api/records/dashboard${query}`, headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Dashboard;
  };

  beforeAll(async () => {
    const fhir = await importFhir(
      sut.app,
      sut.headers,
      bundle([
        vital('w-1850', '29463-7', '1850-01-01', 79, 'kg'),
        vital('w-real', '29463-7', '2024-05-04T08:00:00+02:00', 80, 'kg'),
        vital('w-typo', '29463-7', '2999-12-31T10:00:00Z', 81, 'kg'),
        // BMI only ever dated after today: nothing real to show, nothing real hidden.
        vital('bmi-typo', '39156-5', '2999-12-31T10:00:00Z', 25, 'kg/m2'),
      ]),
    );
    expect(fhir.status).toBe('done');
    const apple = await importApple(sut.app, sut.headers, exportXml(workout(Date.UTC(2024, 4, 3, 7)) + workout(Date.UTC(2999, 11, 30, 7))));
    expect(apple.status).toBe('done');
  });

  it('a card opens on the 30 days up to its last day with data on or before today', async () => {
    const d = await get();
    const weight = d.cards.find((c) => c.key === 'weight')!;
    expect(weight).toMatchObject({ from: '2024-04-05', to: '2024-05-04', first: '1850-01-01', last: '2024-05-04' });
    expect(weight.series[0]!.points.map((p) => [p.date, p.mean])).toEqual([['2024-05-04', 80]]);
    expect(d.available.find((a) => a.key === 'weight')).toEqual({
      key: 'weight',
      title: 'Weight',
      first: '1850-01-01',
      last: '2024-05-04',
      later: '2999-12-31',
    });
    const workouts = d.cards.find((c) => c.key === 'workouts')!;
    expect(workouts).toMatchObject({ from: '2024-04-04', to: '2024-05-03', last: '2024-05-03' });
    expect(d.available.find((a) => a.key === 'workouts')).toMatchObject({ last: '2024-05-03', later: '2999-12-30' });
  });

  it('a metric with data only after today opens on the 30 days ending today', async () => {
    const utcToday = new Date().toISOString().slice(0, 10);
    const d = await get();
    const bmi = d.cards.find((c) => c.key === 'bmi')!;
    expect(bmi.to >= utcToday && bmi.to <= new Date(Date.now() + 14 * 3_600_000).toISOString().slice(0, 10)).toBe(true);
    expect(bmi.series[0]!.points).toEqual([]);
    expect(d.available.find((a) => a.key === 'bmi')).toMatchObject({ last: '2999-12-31', later: '2999-12-31' });
  });

  it('readings after today stay stored and are read with from/to', async () => {
    const d = await get('?from=2999-12-01&to=2999-12-31');
    expect(d.cards.find((c) => c.key === 'weight')!.series[0]!.points.map((p) => [p.date, p.mean])).toEqual([['2999-12-31', 81]]);
    expect(d.cards.find((c) => c.key === 'workouts')!.series[0]!.points.map((p) => [p.date, p.count])).toEqual([['2999-12-30', 1]]);
  });
});
