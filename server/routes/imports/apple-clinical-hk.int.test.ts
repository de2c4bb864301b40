/**
 * Real Apple Health exports name a ClinicalRecord's type as Apple's clinical type
 * (HKClinicalTypeIdentifierLabResultRecord), not FHIR's: its "(not included)" stand-in must still
 * share the imported resource's identity, so the zip replaces it and a later export.xml alone
 * does not bring it back beside the real record.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip, exportXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob } from '../../../test-support/server/jobs.js';

type Headers = Record<string, string>;

const A1C = {
  resourceType: 'Observation',
  id: 'lab-a1c-1',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c' }] },
  effectiveDateTime: '2024-03-29T08:00:00+01:00',
  valueQuantity: { value: 6.1, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
};
const XML = exportXml(
  `  <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="lab-a1c-1" sourceName="Mercy Hospital" sourceURL="https://fhir.mercy.example/r4/Observation/lab-a1c-1" fhirVersion="4.0.1" receivedDate="2024-03-30 09:00:00 +0100" resourceFilePath="/clinical-records/Observation-lab-a1c-1.json"/>\n`,
);
const ZIP = buildZip([
  { name: 'apple_health_export/export.xml', data: XML },
  { name: 'apple_health_export/clinical-records/Observation-lab-a1c-1.json', data: JSON.stringify(A1C) },
]);

async function importApple(app: FastifyInstance, headers: Headers, name: string, data: Buffer | string) {
  const mp = multipart({ name, type: name.endsWith('.zip') ? 'application/zip' : 'text/xml', data: Buffer.from(data) }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  const job = await waitJob(app, headers, (res.json() as { jobId: string }).jobId);
  expect(job.status, job.error).toBe('done');
  return Object.fromEntries(Object.entries(job.result!.imported).filter(([t]) => t !== 'HKCharacteristics'));
}

describe.each(dbTargets())('Apple clinical records with Apple’s type names (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const titles = async (headers: Headers) =>
    ((await sut.app.inject({ method: 'GET', url: '/api/items?source=apple_health&limit=100', headers })).json().items as Array<{ title: string; type: string }>)
      .filter((i) => i.type !== 'HKCharacteristics')
      .map((i) => i.title);

  it('export.xml, then export.zip: the record replaces its stand-in', async () => {
    const user = await signUp(sut.app);
    expect(await importApple(sut.app, user.headers, 'export.xml', XML)).toEqual({ 'fhir:Observation': 1 });
    expect(await titles(user.headers)).toEqual(['Lab result from Mercy Hospital (not included)']);
    expect(await importApple(sut.app, user.headers, 'export.zip', ZIP)).toEqual({ '4548-4': 1 });
    expect(await titles(user.headers)).toEqual([expect.stringMatching(/^Hemoglobin A1c 6.1/)]);
  });

  it('export.zip, then export.xml: no stand-in beside the record', async () => {
    const user = await signUp(sut.app);
    expect(await importApple(sut.app, user.headers, 'export.zip', ZIP)).toEqual({ '4548-4': 1 });
    expect(await importApple(sut.app, user.headers, 'export.xml', XML)).toEqual({});
    expect(await titles(user.headers)).toEqual([expect.stringMatching(/^Hemoglobin A1c 6.1/)]);
  });
});
