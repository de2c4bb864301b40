import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { dbTargets, multipart, signUp } from '../../../test-support/server/harness.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';
import { appleExportWithClinical, bundle, dstu2Lab, fhirFixture, fhirNdjson, usCoreLab } from '../../../test-support/server/health-data.js';

type Headers = Record<string, string>;

async function waitJob(app: FastifyInstance, headers: Headers, id: string) {
  const end = Date.now() + 60_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string; error?: string };
    if (job.status === 'done' || job.status === 'failed') return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function importFhir(app: FastifyInstance, headers: Headers, body: string) {
  const res = await app.inject({ method: 'POST', url: '/api/import/fhir', headers: { ...headers, 'content-type': 'application/fhir+json' }, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  expect((await waitJob(app, headers, (res.json() as { jobId: string }).jobId)).status).toBe('done');
}

async function importApple(app: FastifyInstance, headers: Headers, data: Buffer) {
  const mp = multipart({ name: 'export.zip', type: 'application/zip', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  expect((await waitJob(app, headers, (res.json() as { jobId: string }).jobId)).status).toBe('done');
}

interface Trend {
  code: string;
  name: string;
  unit: string;
  units: string[];
  referenceRange?: { low?: number; high?: number };
  points: Array<{ date: string; value: number; unit: string; flag?: string; itemId: string; source: string }>;
}

describe.each(dbTargets())('health views on %s', (target) => {
  const sut = signedInSuite(target);
  const app = () => sut.app;

  beforeAll(async () => {
    // The hospital (FHIR R4, US Core): glucose in mg/dL, HbA1c in %, the CBC hemoglobin example,
    // and the Synthea patient's medications, allergies, conditions and immunizations.
    await importFhir(
      app(),
      sut.headers,
      bundle([
        fhirFixture('observation-cbc-hemoglobin.json'),
        usCoreLab({
          id: 'glu-1',
          loinc: '2345-7',
          display: 'Glucose [Mass/volume] in Serum or Plasma',
          value: 99,
          unit: 'mg/dL',
          date: '2024-01-10',
          low: 70,
          high: 99,
        }),
        usCoreLab({
          id: 'glu-2',
          loinc: '2345-7',
          display: 'Glucose [Mass/volume] in Serum or Plasma',
          value: 126,
          unit: 'mg/dL',
          date: '2024-07-02',
          low: 70,
          high: 99,
          interpretation: 'H',
        }),
        usCoreLab({
          id: 'a1c-1',
          loinc: '4548-4',
          display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
          value: 6.1,
          unit: '%',
          date: '2024-01-10',
          low: 4,
          high: 5.6,
        }),
        ...fhirNdjson('MedicationRequest.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('AllergyIntolerance.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('Condition.augustus49-emmerich580.ndjson'),
        ...fhirNdjson('Immunization.augustus49-emmerich580.ndjson'),
        fhirFixture('imm-1.json'),
      ]),
    );
    // The same person's iPhone (Apple Health clinical records from an Epic site, DSTU2): glucose in
    // mmol/L under the blood-glucose LOINC code, HbA1c as IFCC mmol/mol.
    await importApple(
      app(),
      sut.headers,
      appleExportWithClinical([
        dstu2Lab({
          id: 'apple-glu',
          loinc: '2339-0',
          display: 'Glucose [Mass/volume] in Blood',
          value: 5.2,
          unit: 'mmol/L',
          date: '2024-03-15T08:10:00-08:00',
          low: 3.9,
          high: 5.5,
        }),
        dstu2Lab({
          id: 'apple-a1c',
          loinc: '59261-8',
          display: 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol',
          value: 48,
          unit: 'mmol/mol',
          date: '2024-09-01',
          low: 20,
          high: 42,
          interpretation: 'H',
        }),
      ]),
    );
  }, 120_000);

  it('a glucose trend joins both sources and converts mmol/L to mg/dL, oldest first', async () => {
    const res = await app().inject({ method: 'GET', url: '/api/records/labs/2345-7?unit=mg/dL', headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    const t = res.json() as Trend;
    expect(t.unit).toBe('mg/dL');
    expect(t.points.map((p) => [p.date.slice(0, 10), p.value, p.unit, p.source, p.flag])).toEqual([
      ['2024-01-10', 99, 'mg/dL', 'fhir', 'normal'],
      ['2024-03-15', 94, 'mg/dL', 'apple_health', 'normal'], // 5.2 mmol/L x 18.016
      ['2024-07-02', 126, 'mg/dL', 'fhir', 'high'],
    ]);
    expect(t.referenceRange).toEqual({ low: 70, high: 99 });
    expect(new Set(t.points.map((p) => p.itemId)).size).toBe(3);
  });

  it('the same trend in mmol/L, asked for by the blood-glucose code', async () => {
    const t = (await app().inject({ method: 'GET', url: '/api/records/labs/2339-0?unit=mmol%2FL', headers: sut.headers })).json() as Trend;
    expect(t.code).toBe('2345-7');
    expect(t.points.map((p) => p.value)).toEqual([5.5, 5.2, 6.99]);
    expect(t.referenceRange).toEqual({ low: 3.89, high: 5.5 });
  });

  it('HbA1c: % and IFCC mmol/mol on one trend, either way round', async () => {
    const pct = (await app().inject({ method: 'GET', url: '/api/records/labs/4548-4?unit=%25', headers: sut.headers })).json() as Trend;
    expect(pct.points.map((p) => [p.value, p.unit, p.flag])).toEqual([
      [6.1, '%', 'high'],
      [6.5, '%', 'high'], // 48 mmol/mol: 0.09148 x 48 + 2.152
    ]);
    const ifcc = (await app().inject({ method: 'GET', url: '/api/records/labs/4548-4?unit=mmol/mol', headers: sut.headers })).json() as Trend;
    expect(ifcc.points.map((p) => p.value)).toEqual([43, 48]);
  });

  it('an unknown unit is a 400 with a sentence, an absent code a 404', async () => {
    const bad = await app().inject({ method: 'GET', url: '/api/records/labs/4548-4?unit=kg', headers: sut.headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'unsupported_unit' } });
    // An analyte with no conversion (hemoglobin, in g/dL) is never relabelled: only its own unit is taken.
    for (const unit of ['mmol%2FL', 'g%2FL', 'banana']) {
      const res = await app().inject({ method: 'GET', url: `/api/records/labs/718-7?unit=${unit}`, headers: sut.headers });
      expect(res.statusCode, unit).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'unsupported_unit', message: 'Hemoglobin can be shown in g/dL.' } });
    }
    const own = (await app().inject({ method: 'GET', url: '/api/records/labs/718-7?unit=g%2FdL', headers: sut.headers })).json() as Trend;
    expect([own.unit, own.units, own.points.map((p) => [p.value, p.unit])]).toEqual(['g/dL', ['g/dL'], [[17, 'g/dL']]]);
    const none = await app().inject({ method: 'GET', url: '/api/records/labs/1742-6', headers: sut.headers });
    expect(none.statusCode).toBe(404);
    const other = await signUp(app());
    expect((await app().inject({ method: 'GET', url: '/api/records/labs/2345-7', headers: other.headers })).statusCode).toBe(404);
    expect((await app().inject({ method: 'GET', url: '/api/records/labs' })).statusCode).toBe(401);
  });

  it('the lab list groups by panel with the latest value and its trend', async () => {
    const res = await app().inject({ method: 'GET', url: '/api/records/labs', headers: sut.headers });
    expect(res.statusCode).toBe(200);
    const { labs } = res.json() as {
      labs: Array<{
        code: string;
        name: string;
        panel: string;
        unit: string;
        count: number;
        latest: { value: number; date: string; flag?: string };
        trend?: string;
      }>;
    };
    const glucose = labs.find((l) => l.code === '2345-7')!;
    expect(glucose).toMatchObject({ name: 'Glucose', panel: 'Diabetes', unit: 'mg/dL', count: 3, latest: { value: 126, flag: 'high' }, trend: 'up' });
    expect(labs.find((l) => l.code === '4548-4')).toMatchObject({ panel: 'Diabetes', count: 2, unit: '%' });
    expect(labs.find((l) => l.code === '718-7')).toMatchObject({
      name: 'Hemoglobin',
      panel: 'Complete blood count',
      count: 1,
      latest: { value: 17, flag: 'normal' },
    });
  });

  it('a unit preference changes the default unit of trends and the list', async () => {
    const put = await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { glucose: 'mmol/L' } } });
    expect(put.statusCode, put.body).toBe(200);
    const t = (await app().inject({ method: 'GET', url: '/api/records/labs/2345-7', headers: sut.headers })).json() as Trend;
    expect(t.unit).toBe('mmol/L');
    await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { glucose: 'mg/dL' } } });
  });

  it('medications: current and past from statuses and dates, newest first', async () => {
    const res = await app().inject({ method: 'GET', url: '/api/records/clinical/medications', headers: sut.headers });
    expect(res.statusCode).toBe(200);
    const { entries } = res.json() as { entries: Array<{ name: string; group: string; status?: string; date: string | null; sources: unknown[] }> };
    const meds = fhirNdjson('MedicationRequest.augustus49-emmerich580.ndjson');
    const active = meds.filter((m) => m.status === 'active').length;
    expect(entries.filter((e) => e.group === 'current')).toHaveLength(active);
    expect(entries.filter((e) => e.group === 'past').every((e) => ['stopped', 'completed'].includes(e.status!))).toBe(true);
    expect(entries.find((e) => e.name === 'Fexofenadine hydrochloride 30 MG Oral Tablet')).toMatchObject({ group: 'current', status: 'active' });
    // Current first, then past; newest first within each.
    const groups = entries.map((e) => e.group);
    expect(groups.indexOf('past')).toBeGreaterThan(groups.lastIndexOf('current'));
    const past = entries.filter((e) => e.group === 'past').map((e) => e.date!);
    expect([...past].sort().reverse()).toEqual(past);
  });

  it('duplicates from two sources (same code and date) are one entry with both sources', async () => {
    const before = (await app().inject({ method: 'GET', url: '/api/records/clinical/immunizations', headers: sut.headers })).json() as {
      entries: Array<{ key: string; sources: Array<{ source: string }> }>;
    };
    // The hospital's immunization again, as a hand entry would repeat it: another id, same vaccine and day.
    const imm = structuredClone(fhirNdjson('Immunization.augustus49-emmerich580.ndjson')[0]!);
    imm.id = 'copy-from-another-portal';
    const mp = multipart({ name: 'export.zip', type: 'application/zip', data: appleExportWithClinical([imm]) }, {}, sut.headers);
    const res = await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
    expect((await waitJob(app(), sut.headers, (res.json() as { jobId: string }).jobId)).status).toBe('done');
    const after = (await app().inject({ method: 'GET', url: '/api/records/clinical/immunizations', headers: sut.headers })).json() as typeof before;
    expect(after.entries).toHaveLength(before.entries.length);
    const merged = after.entries.filter((e) => e.sources.length > 1);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.sources.map((s) => s.source).sort()).toEqual(['apple_health', 'fhir']);
  });

  it('allergies carry reactions and criticality; conditions split active and resolved', async () => {
    const allergies = (await app().inject({ method: 'GET', url: '/api/records/clinical/allergies', headers: sut.headers })).json() as {
      entries: Array<{ name: string; criticality?: string; reactions?: string[]; group: string }>;
    };
    const src = fhirNdjson('AllergyIntolerance.augustus49-emmerich580.ndjson');
    expect(allergies.entries).toHaveLength(
      new Set(
        src.map((a) =>
          JSON.stringify([(a.code as { coding: Array<{ code: string }> }).coding[0]!.code, String(a.onsetDateTime ?? a.recordedDate).slice(0, 10)]),
        ),
      ).size,
    );
    const withReaction = src.find((a) => Array.isArray(a.reaction));
    if (withReaction) expect(allergies.entries.some((e) => (e.reactions?.length ?? 0) > 0)).toBe(true);
    expect(allergies.entries.some((e) => e.criticality)).toBe(true);
    const conditions = (await app().inject({ method: 'GET', url: '/api/records/clinical/conditions', headers: sut.headers })).json() as {
      entries: Array<{ group: string; end?: string }>;
    };
    const cond = fhirNdjson('Condition.augustus49-emmerich580.ndjson');
    const resolvedSrc = cond.filter((c) => (c.clinicalStatus as { coding: Array<{ code: string }> }).coding[0]!.code === 'resolved').length;
    expect(resolvedSrc).toBeGreaterThan(0);
    expect(conditions.entries.filter((e) => e.group === 'resolved').length).toBeGreaterThan(0);
    expect(conditions.entries.filter((e) => e.group === 'active').length).toBeGreaterThan(0);
    expect(conditions.entries.filter((e) => e.group === 'resolved').every((e) => e.end)).toBe(true);
  });
});
