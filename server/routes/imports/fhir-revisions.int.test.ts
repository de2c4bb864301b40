import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { importFhir } from '../../../test-support/server/jobs.js';
import { isOlderRevision } from '../../services/items.service.js';

/** An Observation as a portal sends its corrections: the same id, a new meta.versionId and lastUpdated. */
const heartRate = (versionId: string, lastUpdated: string | undefined, value: number, status = 'final') => ({
  resourceType: 'Observation',
  id: 'hr-revised',
  meta: { versionId, ...(lastUpdated ? { lastUpdated } : {}) },
  status,
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  effectiveDateTime: '2026-03-02T09:30:00+01:00',
  valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

describe('isOlderRevision', () => {
  const data = (meta: object) => ({ resource: { resourceType: 'Observation', meta } });
  it('orders by lastUpdated when both have it, else by whole-number versionIds, else takes the incoming one', () => {
    expect(isOlderRevision(data({ lastUpdated: '2026-03-02T10:00:00Z' }), data({ lastUpdated: '2026-03-03T10:00:00Z' }))).toBe(true);
    expect(isOlderRevision(data({ lastUpdated: '2026-03-04T10:00:00+02:00' }), data({ lastUpdated: '2026-03-04T09:00:00Z' }))).toBe(true);
    expect(isOlderRevision(data({ versionId: '1', lastUpdated: '2026-03-05T00:00:00Z' }), data({ versionId: '3', lastUpdated: '2026-03-04T00:00:00Z' }))).toBe(
      false,
    );
    expect(isOlderRevision(data({ versionId: '2' }), data({ versionId: '10' }))).toBe(true);
    expect(isOlderRevision(data({ versionId: 'b' }), data({ versionId: 'a' }))).toBe(false);
    expect(isOlderRevision(data({}), data({ versionId: '3' }))).toBe(false);
    expect(isOlderRevision(undefined, data({ versionId: '3' }))).toBe(false);
  });
});

describe.each(dbTargets())('FHIR resources imported again in an older revision (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('keep the newer correction and its entered-in-error mark', async () => {
    const user = await signUp(sut.app);
    const importOne = (resource: object) => importFhir(sut.app, user.headers, JSON.stringify(resource));
    const current = async () => {
      const items = (await sut.app.inject({ method: 'GET', url: '/api/items?source=fhir', headers: user.headers })).json().items as Array<{
        title: string;
        tags: string[];
        version: number;
      }>;
      expect(items).toHaveLength(1);
      return items[0]!;
    };

    // The day's readings follow the current version: a correction's old value leaves them.
    const readings = async () =>
      (
        (await sut.app.inject({ method: 'GET', url: '/api/records/series?type=8867-4&from=2026-03-02&to=2026-03-02', headers: user.headers })).json()
          .days as Array<{ count: number; min: number; max: number }>
      ).filter((d) => d.count > 0);

    const v1 = heartRate('1', '2026-03-02T09:31:00Z', 200);
    expect((await importOne(v1)).result?.imported).toEqual({ '8867-4': 1 });
    expect(await readings()).toEqual([expect.objectContaining({ count: 1, max: 200 })]);
    await importOne(heartRate('2', '2026-03-02T11:00:00Z', 80));
    expect(await readings()).toEqual([expect.objectContaining({ count: 1, min: 80, max: 80 })]);
    expect((await importOne(heartRate('3', '2026-03-03T08:00:00Z', 80, 'entered-in-error'))).status).toBe('done');
    const retracted = await current();
    expect(retracted.tags).toContain('entered-in-error');
    expect(await readings()).toEqual([]);

    // The first download, imported again: nothing is imported, nothing changes, its value stays out.
    const again = await importOne(v1);
    expect(again).toMatchObject({ status: 'done', result: { imported: {} } });
    expect(await current()).toEqual(retracted);
    expect(await readings()).toEqual([]);
  });

  it('keep the newer version’s reading when one file holds both, in either order', async () => {
    const user = await signUp(sut.app);
    const ndjson = (lines: object[]) => importFhir(sut.app, user.headers, lines.map((l) => JSON.stringify(l)).join('\n'), 'application/fhir+ndjson');
    const older = heartRate('1', '2026-03-02T09:31:00Z', 200);
    const newer = heartRate('2', '2026-03-02T11:00:00Z', 80);
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      expect((await ndjson(order)).status).toBe('done');
      const days = (await sut.app.inject({ method: 'GET', url: '/api/records/series?type=8867-4&from=2026-03-02&to=2026-03-02', headers: user.headers })).json()
        .days;
      expect(days).toEqual([expect.objectContaining({ count: 1, min: 80, max: 80 })]);
    }
  });
});
