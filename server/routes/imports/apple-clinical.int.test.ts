/**
 * Clinical records of an Apple Health export over HTTP. The export.xml alone (or a zip without
 * `clinical-records/`) lists them without their content: its "(not included)" stand-ins must never
 * replace what the whole export.zip imported (a probe lost a lab value that way), and the zip's
 * FHIR resources are counted once each, as a FHIR upload counts them.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip, exportXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob, type Job } from '../../../test-support/server/jobs.js';

type Headers = Record<string, string>;

const observation = (id: string, category: string, code: string, value: Record<string, unknown>) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
  code: { coding: [{ system: 'http://loinc.org', code }] },
  effectiveDateTime: '2024-03-29T08:00:00+01:00',
  ...value,
});
const GLUCOSE = observation('obs1', 'laboratory', '2345-7', {
  valueQuantity: { value: 95, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
});
const mmHg = (code: string, value: number) => ({
  code: { coding: [{ system: 'http://loinc.org', code }] },
  valueQuantity: { value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
});
const BLOOD_PRESSURE = observation('bp1', 'vital-signs', '85354-9', { component: [mmHg('8480-6', 120), mmHg('8462-4', 80)] });

const clinicalRecord = (id: string, file: string) =>
  `  <ClinicalRecord type="Observation" identifier="${id}" sourceName="Charité" fhirVersion="4.0.1" receivedDate="2024-03-30 09:00:00 +0100" resourceFilePath="/clinical-records/${file}"/>\n`;
const XML = exportXml(clinicalRecord('obs1', 'Observation-1.json') + clinicalRecord('bp1', 'Observation-2.json'));
const FULL_ZIP = buildZip([
  { name: 'apple_health_export/export.xml', data: XML },
  { name: 'apple_health_export/clinical-records/Observation-1.json', data: JSON.stringify(GLUCOSE) },
  { name: 'apple_health_export/clinical-records/Observation-2.json', data: JSON.stringify(BLOOD_PRESSURE) },
]);
const ZIP_WITHOUT_CLINICAL = buildZip([{ name: 'apple_health_export/export.xml', data: XML }]);

async function importApple(app: FastifyInstance, headers: Headers, name: string, data: Buffer): Promise<Job> {
  const mp = multipart({ name, type: name.endsWith('.zip') ? 'application/zip' : 'text/xml', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  const job = await waitJob(app, headers, (res.json() as { jobId: string }).jobId);
  expect(job.status, job.error).toBe('done');
  return job;
}

/** What is new of the clinical records (the export's `Me` is a record too). */
const clinicalCounts = (job: Job) => Object.fromEntries(Object.entries(job.result!.imported).filter(([type]) => type !== 'HKCharacteristics'));

describe.each(dbTargets())('Apple Health clinical records over HTTP (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const get = async <T>(headers: Headers, url: string): Promise<T> => {
    const res = await sut.app.inject({ method: 'GET', url, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as T;
  };
  /** What the person sees of the glucose result: the labs overview, its series, and the records' titles. */
  const glucose = async (headers: Headers) => {
    const { labs } = await get<{ labs: Array<{ code: string; latest: { value: number } }> }>(headers, '/api/records/labs');
    const { days } = await get<{ days: Array<{ date: string; sum: number }> }>(headers, '/api/records/series?type=2345-7&from=2024-03-01&to=2024-04-30');
    const { items } = await get<{ items: Array<{ title: string; type: string | null }> }>(headers, '/api/items?source=apple_health&limit=100');
    return {
      lab: labs.find((l) => l.code === '2345-7')?.latest.value,
      days: days.map((d) => [d.date, d.sum]),
      records: items
        .filter((i) => i.type !== 'HKCharacteristics')
        .map((i) => [i.type, i.title.includes('(not included)')])
        .sort(),
    };
  };

  it('keeps what the export.zip imported when the export.xml, or a zip without its clinical records, comes later', async () => {
    const user = await signUp(sut.app);
    await importApple(sut.app, user.headers, 'export.zip', FULL_ZIP);
    const imported = await glucose(user.headers);
    expect(imported.lab).toBe(95);
    expect(imported.days).toEqual([['2024-03-29', 95]]);
    expect(imported.records).toEqual([
      ['2345-7', false],
      ['85354-9', false],
    ]);

    for (const [name, data] of [
      ['export.xml', Buffer.from(XML)],
      ['export.zip', ZIP_WITHOUT_CLINICAL],
    ] as const) {
      const again = await importApple(sut.app, user.headers, name, data);
      expect(clinicalCounts(again), name).toEqual({});
      expect(await glucose(user.headers), name).toEqual(imported);
    }
  });

  it('keeps the stand-ins where nothing is stored yet, and the export.zip replaces them with the records', async () => {
    const user = await signUp(sut.app);
    const listed = await importApple(sut.app, user.headers, 'export.xml', Buffer.from(XML));
    expect(clinicalCounts(listed)).toEqual({ 'fhir:Observation': 2 });
    expect(await glucose(user.headers)).toEqual({
      lab: undefined,
      days: [],
      records: [
        ['fhir:Observation', true],
        ['fhir:Observation', true],
      ],
    });

    await importApple(sut.app, user.headers, 'export.zip', FULL_ZIP);
    const replaced = await glucose(user.headers);
    expect(replaced.lab).toBe(95);
    expect(replaced.days).toEqual([['2024-03-29', 95]]);
    expect(replaced.records).toEqual([
      ['2345-7', false],
      ['85354-9', false],
    ]);
  });

  it('counts each clinical resource of an export.zip once, as a FHIR upload does, and stores its series', async () => {
    const user = await signUp(sut.app);
    const job = await importApple(sut.app, user.headers, 'export.zip', FULL_ZIP);
    // The glucose's series sample and the blood pressure's two components are not counted again.
    expect(clinicalCounts(job)).toEqual({ '2345-7': 1, '85354-9': 1 });
    const systolic = await get<{ days: Array<{ date: string; sum: number }> }>(user.headers, '/api/records/series?type=8480-6&from=2024-03-01&to=2024-04-30');
    expect(systolic.days.map((d) => [d.date, d.sum])).toEqual([['2024-03-29', 120]]);

    const fhir = await sut.app.inject({
      method: 'POST',
      url: '/api/import/fhir',
      headers: { ...user.headers, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify({ ...GLUCOSE, id: 'obs2', effectiveDateTime: '2024-04-02T08:00:00+01:00' }),
    });
    expect(fhir.statusCode, fhir.body).toBe(202);
    const viaFhir = await waitJob(sut.app, user.headers, (fhir.json() as { jobId: string }).jobId);
    expect(viaFhir.result!.imported).toEqual({ '2345-7': 1 });
  });
});
