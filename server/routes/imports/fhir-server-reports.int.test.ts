/**
 * FHIR uploads that hold a health system's own messages instead of (or beside) health data: an
 * OperationOutcome, what an EHR sends back when a request failed, and a CapabilityStatement, the
 * server's description of itself. Neither is stored; a file of nothing else fails with a sentence
 * that says what it is.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { importFhir } from '../../../test-support/server/jobs.js';

const fixture = (name: string) => readFileSync(new URL(`../../../integrations/fhir/fixtures/${name}`, import.meta.url), 'utf8');
const capability = () => readFileSync(new URL('../../../integrations/epic/fixtures/epic_capability_r4_apotti-fi.json', import.meta.url), 'utf8');
/** The person's own words in the outcome: shown to them, never logged. */
const DIAGNOSTICS = 'No patient with identifier MRN 4471-Q0 in Kaikki Hospital';
const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: DIAGNOSTICS }] };

describe.each(dbTargets())("FHIR uploads of a health system's own messages (%s)", (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const items = async (headers: Record<string, string>) => {
    const res = await sut.app.inject({ method: 'GET', url: '/api/items?source=fhir', headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: Array<{ type: string }> }).items;
  };

  it('fails an upload of only an OperationOutcome with its severity, code and text, logging none of it', async () => {
    const user = await signUp(sut.app);
    const searchset = { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [{ resource: outcome, search: { mode: 'outcome' } }] };
    for (const body of [JSON.stringify(outcome), JSON.stringify(searchset)]) {
      const job = await importFhir(sut.app, user.headers, body);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/^This file is an error report from the health system/);
      expect(job.error).toContain(`error (not-found): ${DIAGNOSTICS}`);
    }
    const ndjson = [JSON.stringify(outcome), JSON.stringify({ ...outcome, issue: [{ severity: 'fatal', code: 'forbidden' }] })].join('\n');
    const job = await importFhir(sut.app, user.headers, ndjson, 'application/fhir+ndjson');
    expect(job.status).toBe('failed');
    expect(job.error).toContain(`error (not-found): ${DIAGNOSTICS}; fatal (forbidden)`);
    expect(await items(user.headers)).toEqual([]);
    expect(sut.logs()).not.toContain('4471-Q0');
    expect(sut.logs()).not.toContain('"level":50');
  });

  it('imports the data beside an OperationOutcome as before', async () => {
    const user = await signUp(sut.app);
    const ndjson = [JSON.stringify(outcome), JSON.stringify(JSON.parse(fixture('imm-1.json')))].join('\n');
    const job = await importFhir(sut.app, user.headers, ndjson, 'application/fhir+ndjson');
    expect(job.status, job.error).toBe('done');
    expect(job.result!.imported).toEqual({ 'cvx:197': 1 });
  });

  it('does not store a CapabilityStatement, beside data or alone', async () => {
    const user = await signUp(sut.app);
    const bundle = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":${capability()}},{"resource":${fixture('imm-1.json')}}]}`;
    const job = await importFhir(sut.app, user.headers, bundle);
    expect(job.status, job.error).toBe('done');
    expect(job.result!.imported).toEqual({ 'cvx:197': 1, 'server descriptions, not health data (not imported)': 1 });
    expect((await items(user.headers)).map((i) => i.type)).toEqual(['cvx:197']);

    const alone = await importFhir(sut.app, user.headers, capability());
    expect(alone.status).toBe('failed');
    expect(alone.error).toMatch(/description of its own server .*not health data/);
    expect((await items(user.headers)).map((i) => i.type)).toEqual(['cvx:197']);
  });
});
