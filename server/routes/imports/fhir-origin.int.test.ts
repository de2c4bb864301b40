/**
 * FHIR ids are unique only within one server: two hospitals' `Observation/1` are two records
 * (a probe lost a glucose result to another portal's cholesterol). Records stored before ids
 * named their server are found again under the new identity, not duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { importFhir } from '../../../test-support/server/jobs.js';

type Headers = Record<string, string>;

const lab = (loinc: string, value: number, date: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id: '1',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
  effectiveDateTime: `${date}T08:00:00Z`,
  valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  ...extra,
});
const GLUCOSE = lab('2345-7', 100, '2026-05-01');
const CHOLESTEROL = lab('2093-3', 200, '2026-06-01');
const bundle = (resource: object, fullUrl?: string) =>
  JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ ...(fullUrl ? { fullUrl } : {}), resource }] });
const HOSP_A = 'https://fhir.hospa.example/r4/Observation/1';
const HOSP_B = 'https://fhir.hospb.example/r4/Observation/1';

describe.each(dbTargets())('FHIR records from two servers with the same ids (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const get = async <T>(headers: Headers, url: string): Promise<T> => (await sut.app.inject({ method: 'GET', url, headers })).json() as T;
  const items = async (headers: Headers) =>
    (await get<{ items: Array<{ type: string; tags: string[] }> }>(headers, '/api/items?source=fhir&limit=100')).items.map((i) => i.type).sort();
  const labs = async (headers: Headers) => (await get<{ labs: Array<{ code: string }> }>(headers, '/api/records/labs')).labs.map((l) => l.code).sort();
  const days = async (headers: Headers, type: string) =>
    (await get<{ days: Array<{ count: number; max: number }> }>(headers, `/api/records/series?type=${type}&from=2026-01-01&to=2026-12-31`)).days.filter(
      (d) => d.count > 0,
    );
  const run = async (headers: Headers, body: string) => {
    const job = await importFhir(sut.app, headers, body);
    expect(job.status).toBe('done');
    return job.result?.imported;
  };

  it.each([
    ['with fullUrls', HOSP_A, HOSP_B],
    ['without fullUrls', undefined, undefined],
  ])('keeps both hospitals’ Observation/1 (%s), and a re-import changes nothing', async (_, a, b) => {
    const user = await signUp(sut.app);
    expect(await run(user.headers, bundle(GLUCOSE, a))).toEqual({ '2345-7': 1 });
    expect(await run(user.headers, bundle(CHOLESTEROL, b))).toEqual({ '2093-3': 1 });
    expect(await items(user.headers)).toEqual(['2093-3', '2345-7']);
    expect(await labs(user.headers)).toEqual(['2093-3', '2345-7']);
    expect(await days(user.headers, '2345-7')).toEqual([expect.objectContaining({ count: 1, max: 100 })]);
    expect(await run(user.headers, bundle(GLUCOSE, a))).toEqual({});
    expect(await run(user.headers, bundle(CHOLESTEROL, b))).toEqual({});
    expect(await items(user.headers)).toEqual(['2093-3', '2345-7']);
  });

  it('keeps both when one Bundle holds both servers’ Observation/1', async () => {
    const user = await signUp(sut.app);
    const both = JSON.stringify({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: HOSP_A, resource: GLUCOSE },
        { fullUrl: HOSP_B, resource: CHOLESTEROL },
      ],
    });
    expect(await run(user.headers, both)).toEqual({ '2345-7': 1, '2093-3': 1 });
    expect(await items(user.headers)).toEqual(['2093-3', '2345-7']);
  });

  it('updates a record stored under the old identity in place, and another server’s stays apart', async () => {
    const user = await signUp(sut.app);
    // A lone resource still has the `Type/id` identity every record had before.
    expect(await run(user.headers, JSON.stringify(lab('2345-7', 90, '2026-05-01', { meta: { versionId: '1' } })))).toEqual({ '2345-7': 1 });
    // The same result from its server, corrected: the stored record becomes it.
    expect(await run(user.headers, bundle(lab('2345-7', 100, '2026-05-01', { meta: { versionId: '2' } }), HOSP_A))).toEqual({ '2345-7': 1 });
    expect(await items(user.headers)).toEqual(['2345-7']);
    expect(await days(user.headers, '2345-7')).toEqual([expect.objectContaining({ count: 1, max: 100 })]);
    // Found under its new identity from now on: a re-import changes nothing, another server adds.
    expect(await run(user.headers, bundle(lab('2345-7', 100, '2026-05-01', { meta: { versionId: '2' } }), HOSP_A))).toEqual({});
    expect(await run(user.headers, bundle(CHOLESTEROL, HOSP_B))).toEqual({ '2093-3': 1 });
    expect(await items(user.headers)).toEqual(['2093-3', '2345-7']);
  });

  it('moves an unchanged old-identity record to its server without counting it, then keeps other servers apart', async () => {
    const user = await signUp(sut.app);
    expect(await run(user.headers, JSON.stringify(GLUCOSE))).toEqual({ '2345-7': 1 });
    expect(await run(user.headers, bundle(GLUCOSE, HOSP_A))).toEqual({});
    // Same code, other server: not taken for the stored one any more.
    expect(await run(user.headers, bundle(lab('2345-7', 140, '2026-07-01'), HOSP_B))).toEqual({ '2345-7': 1 });
    expect(await items(user.headers)).toEqual(['2345-7', '2345-7']);
  });

  it('never lets another code replace a record stored under the old identity', async () => {
    const user = await signUp(sut.app);
    expect(await run(user.headers, JSON.stringify(GLUCOSE))).toEqual({ '2345-7': 1 });
    expect(await run(user.headers, bundle(CHOLESTEROL, HOSP_B))).toEqual({ '2093-3': 1 });
    expect(await items(user.headers)).toEqual(['2093-3', '2345-7']);
    expect(await days(user.headers, '2345-7')).toEqual([expect.objectContaining({ count: 1, max: 100 })]);
  });

  it('applies a server’s correction (entered-in-error) to its own record only', async () => {
    const user = await signUp(sut.app);
    await run(user.headers, bundle(lab('2345-7', 100, '2026-05-01', { meta: { versionId: '1' } }), HOSP_A));
    await run(user.headers, bundle(lab('2345-7', 120, '2026-05-01', { meta: { versionId: '1' } }), HOSP_B));
    await run(user.headers, bundle(lab('2345-7', 100, '2026-05-01', { meta: { versionId: '2' }, status: 'entered-in-error' }), HOSP_A));
    const all = (await get<{ items: Array<{ tags: string[] }> }>(user.headers, '/api/items?source=fhir&limit=100')).items;
    expect(all.map((i) => i.tags.includes('entered-in-error')).sort()).toEqual([false, true]);
    expect(await days(user.headers, '2345-7')).toEqual([expect.objectContaining({ count: 1, max: 120 })]);
  });
});
