/**
 * FHIR and Apple Health uploads with resources or samples the importers cannot use: the job
 * imports the rest, and its result counts what it left out, under a key that says why.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportXml, recordXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { importApple, importFhir } from '../../../test-support/server/jobs.js';

const fixture = (name: string) => readFileSync(new URL(`../../../integrations/fhir/fixtures/${name}`, import.meta.url), 'utf8');
const UNREADABLE = 'resources that could not be read (not imported)';
const TOO_DEEP = 'resources nested too deeply (not imported)';
const UNDATED = 'samples with an unreadable date (not imported)';
const HR = 'HKQuantityTypeIdentifierHeartRate';

/** The US Core Condition with an extension nested 5,000 levels, as JSON text (184 KB, as in the probe). */
function deepCondition(): string {
  const group = '{"url":"http://example.org/fhir/StructureDefinition/group","extension":[';
  const inner = '{"url":"http://example.org/fhir/StructureDefinition/note","valueString":"innermost"}';
  return JSON.stringify(JSON.parse(fixture('condition-encounter-diagnosis-example1.json'))).replace(
    /}$/,
    `,"extension":[${group.repeat(5000)}${inner}${']}'.repeat(5000)}]}`,
  );
}

describe.each(dbTargets())('FHIR and Apple Health imports: what was left out is counted (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('imports a Bundle around a deeply nested resource and odd entries, counting each skipped one, with no server error', async () => {
    const user = await signUp(sut.app);
    const odd = (rt: string) => fixture('weight.json').replace('"resourceType": "Observation"', `"resourceType": ${JSON.stringify(rt)}`);
    const entries = [fixture('heart-rate.json'), deepCondition(), odd('observation'), odd('constructor'), odd('__proto__'), fixture('imm-1.json')].map(
      (r) => `{"resource":${r}}`,
    );
    const bundle = `{"resourceType":"Bundle","type":"collection","entry":[${entries.join(',')},{"request":{"method":"DELETE","url":"Observation/gone"}}]}`;
    const job = await importFhir(sut.app, user.headers, bundle);
    expect(job.status, job.error).toBe('done');
    expect(job.result!.imported).toEqual({ '8867-4': 1, 'cvx:197': 1, [UNREADABLE]: 4, [TOO_DEEP]: 1 });
    expect(sut.logs()).not.toContain('"level":50');

    // The same resource alone fails the job with a sentence that names the problem.
    const alone = await importFhir(sut.app, user.headers, deepCondition());
    expect(alone.status).toBe('failed');
    expect(alone.error).toMatch(/nested more than 64 levels deep/);
    expect(sut.logs()).not.toContain('"level":50');
  });

  it('imports NDJSON around broken, over-deep and non-resource lines, counting each', async () => {
    const user = await signUp(sut.app);
    const [a, b, c] = fixture('Immunization.augustus49-emmerich580.ndjson').split('\n');
    const text = [a, '{"resourceType":"Observation","status":', b, deepCondition(), '{"hello":"world"}', c].join('\n');
    const job = await importFhir(sut.app, user.headers, text, 'application/fhir+ndjson');
    expect(job.status, job.error).toBe('done');
    expect(job.result!.imported[UNREADABLE]).toBe(2);
    expect(job.result!.imported[TOO_DEEP]).toBe(1);
    expect(
      Object.entries(job.result!.imported)
        .filter(([k]) => k.startsWith('cvx:'))
        .reduce((n, [, v]) => n + v, 0),
    ).toBe(3);
  });

  it('reads Apple dates with a "+01:00" offset and counts samples whose date or value it cannot read', async () => {
    const user = await signUp(sut.app);
    const hr = (v: number, start: string) => recordXml(HR, 'count/min', v, 'Watch', start);
    const xml = exportXml(
      hr(70, '2026-06-03 10:00:00 +0100') +
        hr(79, '2026-06-03 11:00:00 +01:00') +
        // Left out: no offset (no instant), a day February lacks, a date in another form, no date.
        hr(80, '2026-06-03 12:00:00') +
        hr(77, '2026-02-30 10:00:00 +0100') +
        hr(78, '03/06/2026 10:00') +
        `  <Record type="${HR}" sourceName="Watch" unit="count/min" value="71"/>\n` +
        // A value that is not a number is left out with the unusable values.
        recordXml(HR, 'count/min', 'n/a', 'Watch', '2026-06-03 13:00:00 +0100'),
    );
    const job = await importApple(sut.app, user.headers, xml);
    expect(job.status, job.error).toBe('done');
    // The profile (<Me>) is a record of its own.
    expect(job.result!.imported).toEqual({ HKCharacteristics: 1, [HR]: 2, [UNDATED]: 4, 'samples left out (unit or value not usable)': 1 });
    const res = await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${HR}&from=2026-06-01&to=2026-06-30`, headers: user.headers });
    expect(res.json()).toMatchObject({ days: [{ date: '2026-06-03', count: 2, min: 70, max: 79 }] });
  });

  it('counts types named like built-in properties as the numbers they are', async () => {
    const user = await signUp(sut.app);
    const types = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
    const xml = exportXml(types.map((t, i) => recordXml(t, 'count', 3 + i, 'App', `2026-06-0${i + 1} 10:00:00 +0100`)).join(''));
    // The counts had picked up Object.prototype's functions as strings, and the job's answer was a 500.
    const job = await importApple(sut.app, user.headers, xml);
    expect(job.status, job.error).toBe('done');
    // "__proto__" is kept out of every record the API answers (zod's records drop it); the others count.
    expect(job.result!.imported).toEqual({ HKCharacteristics: 1, constructor: 1, toString: 1, hasOwnProperty: 1 });
    expect(sut.logs()).not.toContain('"level":50');
  });
});
