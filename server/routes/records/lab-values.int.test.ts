/**
 * Lab values as the lab reported them: a result in its own unit is never rounded, a bound ("<0.5")
 * keeps its comparator, and the flag is decided on the real values, in the trend and the summary.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dbTargets } from '../../../test-support/server/harness.js';
import { importFhir } from '../../../test-support/server/jobs.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

const LAB = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] };
const lab = (id: string, code: string, at: string, value: number, low: number, high: number, comparator?: string) => ({
  resource: {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [LAB],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    effectiveDateTime: at,
    valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL', ...(comparator ? { comparator } : {}) },
    referenceRange: [{ low: { value: low, unit: 'mg/dL' }, high: { value: high, unit: 'mg/dL' } }],
  },
});

interface Point {
  day?: string;
  value: number;
  unit: string;
  flag?: string;
  low?: number;
  high?: number;
  comparator?: string;
}

describe.each(dbTargets())('lab values as reported (%s)', (target) => {
  const sut = signedInSuite(target);

  it('keeps decimals and bounds, and flags on the real values', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        lab('cr-1', '2160-0', '2024-05-10T08:00:00-07:00', 1.4, 0.7, 1.3),
        lab('cr-2', '2160-0', '2024-06-10T08:00:00-07:00', 0.5, 0.6, 1.3, '<'),
        lab('ca-1', '17861-6', '2024-05-10T08:00:00-07:00', 10.4, 8.5, 10.3),
        // Converted (mmol/L asked for): rounded as a report in that unit prints it, flagged before rounding.
        lab('glu-1', '2345-7', '2024-05-10T08:00:00-07:00', 99.6, 70, 99),
      ],
    };
    expect((await importFhir(sut.app, sut.headers, JSON.stringify(bundle))).status).toBe('done');
    const points = async (url: string) => ((await sut.app.inject({ method: 'GET', url, headers: sut.headers })).json() as { points: Point[] }).points;

    const creatinine = await points('/api/records/labs/2160-0');
    expect(creatinine[0]).toMatchObject({ value: 1.4, unit: 'mg/dL', low: 0.7, high: 1.3, flag: 'high' });
    expect(creatinine[0]!.comparator).toBeUndefined();
    expect(creatinine[1]).toMatchObject({ value: 0.5, comparator: '<', low: 0.6, flag: 'low' });
    expect((await points('/api/records/labs/17861-6'))[0]).toMatchObject({ value: 10.4, low: 8.5, high: 10.3, flag: 'high' });
    const glucose = (await points('/api/records/labs/2345-7?unit=mmol/L'))[0]!;
    expect(glucose).toMatchObject({ unit: 'mmol/L', value: 5.53, flag: 'high' });
    expect((await points('/api/records/labs/2345-7'))[0]).toMatchObject({ value: 99.6, high: 99, flag: 'high' });

    const ips = await sut.app.inject({ method: 'POST', url: '/api/summary', headers: sut.headers, payload: { sections: ['results'], format: 'fhir' } });
    expect(ips.statusCode).toBe(200);
    const observations = (ips.json() as { entry: Array<{ resource: Record<string, unknown> }> }).entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'Observation') as Array<{ code: { coding: Array<{ code: string }> }; valueQuantity: Record<string, unknown> }>;
    const cr = observations.find((o) => o.code.coding.some((c) => c.code === '2160-0'))!;
    // The latest creatinine is the bound.
    expect(cr.valueQuantity).toMatchObject({ value: 0.5, comparator: '<' });
  });

  it('dates records by the day the source wrote, in lists, trends and the summary’s period', async () => {
    const ndjson = readFileSync(new URL('../../../integrations/fhir/fixtures/Immunization.augustus49-emmerich580.ndjson', import.meta.url), 'utf8');
    const late = {
      resourceType: 'Observation',
      id: 'k-late',
      status: 'final',
      category: [LAB],
      code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
      effectiveDateTime: '2024-03-10T23:30:00-07:00',
      valueQuantity: { value: 4.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    };
    expect((await importFhir(sut.app, sut.headers, ndjson, 'application/fhir+ndjson')).status).toBe('done');
    expect((await importFhir(sut.app, sut.headers, JSON.stringify(late))).status).toBe('done');
    // 23:21 −05:00 on 3 March 2018 is 4 March in UTC.
    const list = (await sut.app.inject({ method: 'GET', url: '/api/records/clinical/immunizations', headers: sut.headers })).json() as {
      entries: Array<{ day?: string; date: string }>;
    };
    expect(list.entries.filter((e) => e.day === '2018-03-03')).toHaveLength(4);
    const summary = async (from: string, to: string, sections: string[]) =>
      (
        (await sut.app.inject({ method: 'POST', url: '/api/summary', headers: sut.headers, payload: { sections, from, to, format: 'fhir' } })).json() as {
          entry: Array<{ resource: { resourceType: string } }>;
        }
      ).entry.filter((e) => e.resource.resourceType === 'Immunization' || e.resource.resourceType === 'Observation');
    expect(await summary('2018-03-03', '2018-03-03', ['immunizations'])).toHaveLength(4);
    expect(await summary('2018-03-04', '2018-03-04', ['immunizations'])).toHaveLength(0);
    expect(await summary('2024-03-10', '2024-03-10', ['results'])).toHaveLength(1);
    expect(await summary('2024-03-11', '2024-03-11', ['results'])).toHaveLength(0);
    const potassium = (await sut.app.inject({ method: 'GET', url: '/api/records/labs/2823-3', headers: sut.headers })).json() as { points: Point[] };
    expect(potassium.points[0]).toMatchObject({ day: '2024-03-10', value: 4.1 });
  });
});
