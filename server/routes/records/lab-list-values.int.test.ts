/**
 * The lab list (`GET /api/records/labs`) shows a bound ("<40") as a bound, never trends on one,
 * and lists results given in words ("Negative") beside the numeric ones.
 */
import { describe, expect, it } from 'vitest';
import * as contract from '../../../contract/index.js';
import { dbTargets } from '../../../test-support/server/harness.js';
import { importFhir } from '../../../test-support/server/jobs.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

const LAB = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] };
const obs = (id: string, code: string, at: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  resource: {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [LAB],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    effectiveDateTime: at,
    ...value,
    ...extra,
  },
});
const qty = (value: number, unit: string, comparator?: string) => ({
  valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit, ...(comparator ? { comparator } : {}) },
});
const interp = (code: string) => ({ interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code }] }] });

describe.each(dbTargets())('lab list values (%s)', (target) => {
  const sut = signedInSuite(target);

  it('shows a bound with its comparator and trends only between measured values', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        // Glucose: 100, 95, then "<40": the latest is a bound, so no arrow.
        obs('g1', '2345-7', '2026-05-01T08:00:00+02:00', qty(100, 'mg/dL')),
        obs('g2', '2345-7', '2026-05-05T08:00:00+02:00', qty(95, 'mg/dL')),
        obs('g3', '2345-7', '2026-05-07T08:00:00+02:00', qty(40, 'mg/dL', '<')),
        // Creatinine: ">5" then 1.2: the earlier end is a bound, so no arrow either.
        obs('c1', '2160-0', '2026-05-01T08:00:00+02:00', qty(5, 'mg/dL', '>')),
        obs('c2', '2160-0', '2026-05-05T08:00:00+02:00', qty(1.2, 'mg/dL')),
        // Calcium: two measured values still trend.
        obs('ca1', '17861-6', '2026-05-01T08:00:00+02:00', qty(10.4, 'mg/dL')),
        obs('ca2', '17861-6', '2026-05-05T08:00:00+02:00', qty(9.0, 'mg/dL')),
      ],
    };
    expect((await importFhir(sut.app, sut.headers, JSON.stringify(bundle))).status).toBe('done');
    const res = await sut.app.inject({ method: 'GET', url: '/api/records/labs', headers: sut.headers });
    expect(res.statusCode).toBe(200);
    const { labs } = contract.LabsResponse.parse(res.json());
    const by = (code: string) => labs.find((l) => l.code === code)!;

    expect(by('2345-7').latest).toEqual({ value: 40, comparator: '<', unit: 'mg/dL', date: '2026-05-07T06:00:00.000Z' });
    expect(by('2345-7').trend).toBeUndefined();
    expect(by('2345-7').count).toBe(3);
    expect(by('2160-0').latest).toMatchObject({ value: 1.2, unit: 'mg/dL' });
    expect(by('2160-0').latest.comparator).toBeUndefined();
    expect(by('2160-0').trend).toBeUndefined();
    expect(by('17861-6').trend).toBe('down');
    expect(by('17861-6').latest.comparator).toBeUndefined();
  });

  it('lists laboratory results given in words, with their date and flag, and no trend', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        obs(
          'hiv-1',
          '75622-1',
          '2026-04-01T09:00:00Z',
          { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260385009', display: 'Negative' }], text: 'Negative' } },
          interp('N'),
        ),
        obs(
          'hiv-2',
          '75622-1',
          '2026-05-01T09:00:00Z',
          { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260385009', display: 'Negative' }], text: 'Negative' } },
          interp('N'),
        ),
        // A string result with an abnormal interpretation.
        obs('ua-1', '5778-6', '2026-05-02T09:00:00Z', { valueString: 'Cloudy' }, interp('A')),
        // No value at all: not a result to list.
        obs('cult-1', '600-7', '2026-05-03T09:00:00Z', {
          dataAbsentReason: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-performed', display: 'Not Performed' }],
          },
        }),
        // Words outside the laboratory category stay out of the lab list.
        {
          resource: {
            resourceType: 'Observation',
            id: 'smoke-1',
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history' }] }],
            code: { coding: [{ system: 'http://loinc.org', code: '72166-2' }] },
            effectiveDateTime: '2026-05-01T09:00:00Z',
            valueCodeableConcept: { text: 'Never smoker' },
          },
        },
      ],
    };
    expect((await importFhir(sut.app, sut.headers, JSON.stringify(bundle))).status).toBe('done');
    const res = await sut.app.inject({ method: 'GET', url: '/api/records/labs', headers: sut.headers });
    expect(res.statusCode).toBe(200);
    const { labs } = contract.LabsResponse.parse(res.json());
    const by = (code: string) => labs.find((l) => l.code === code);

    const hiv = by('75622-1')!;
    expect(hiv).toBeDefined();
    expect(hiv.count).toBe(2);
    expect(hiv.latest).toEqual({ text: 'Negative', unit: '', date: '2026-05-01T09:00:00.000Z', flag: 'normal' });
    expect(hiv.trend).toBeUndefined();
    expect(by('5778-6')!.latest).toEqual({ text: 'Cloudy', unit: '', date: '2026-05-02T09:00:00.000Z', flag: 'abnormal' });
    expect(by('600-7')).toBeUndefined();
    expect(by('72166-2')).toBeUndefined();
    // The numeric results of the first test are as they were.
    expect(by('17861-6')!.latest).toMatchObject({ value: 9, unit: 'mg/dL' });

    // No chart for words: the trend of a test with no number is still "no result".
    expect((await sut.app.inject({ method: 'GET', url: '/api/records/labs/75622-1', headers: sut.headers })).statusCode).toBe(404);
    // The patient summary's results stay numeric.
    const summary = await sut.app.inject({ method: 'POST', url: '/api/summary', headers: sut.headers, payload: { sections: ['results'], format: 'fhir' } });
    expect(summary.statusCode).toBe(200);
  });
});
