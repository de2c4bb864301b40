import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as contract from '../../contract/index.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { fhirFixture } from '../../test-support/server/health-data.js';

/** Top-level properties and required names of an object schema, as JSON Schema states them. */
const outline = (schema: { properties?: Record<string, unknown>; required?: string[] }) => ({
  properties: Object.keys(schema.properties ?? {}).sort(),
  required: [...(schema.required ?? [])].sort(),
});
const outlineOf = (schema: z.ZodType) => outline(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Parameters<typeof outline>[0]);

describe.each(dbTargets())('one API contract (%s)', (target) => {
  let sut: TestServer;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('documents each route with the contract schema it answers with (OpenAPI from the same schemas)', async () => {
    const spec = (await inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Parameters<typeof outline>[0] }> }> }>>;
    };
    const documented = (path: string, method: string, status: string) => spec.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
    const table: Array<[string, string, string, z.ZodType]> = [
      ['/api/items/{id}', 'get', '200', contract.Item],
      ['/api/items', 'get', '200', contract.ItemPage],
      ['/api/jobs/{id}', 'get', '200', contract.Job],
      ['/api/import/fhir', 'post', '202', contract.JobAccepted],
      ['/api/integrations/{provider}/sync', 'post', '202', contract.JobAccepted],
      ['/api/integrations', 'get', '200', contract.IntegrationsList],
      ['/api/records/labs/{code}', 'get', '200', contract.LabTrend],
      ['/api/records/dashboard', 'get', '200', contract.Dashboard],
      ['/api/chats/{id}', 'get', '200', contract.ChatThread],
      ['/api/models', 'get', '200', contract.ModelsResponse],
      ['/api/auth/sessions', 'get', '200', contract.SessionList],
      ['/api/search', 'get', '200', contract.SearchResponse],
    ];
    for (const [path, method, status, schema] of table) {
      const doc = documented(path, method, status);
      expect(doc, `${method} ${path} ${status}`).toBeDefined();
      expect(outline(doc!), `${method} ${path} ${status}`).toEqual(outlineOf(schema));
    }
    // One jobs API: integration syncs have no jobs route of their own.
    expect(Object.keys(spec.paths).filter((p) => p.includes('jobs'))).toEqual(expect.arrayContaining(['/api/jobs', '/api/jobs/{id}']));
    expect(Object.keys(spec.paths).filter((p) => p.includes('jobs'))).toHaveLength(2);
  });

  it('answers in exactly the contract shapes (no field the contract does not list)', async () => {
    const user = await signUp(sut.app);
    const { headers } = user;
    const created = await inject({ method: 'POST', url: '/api/items', headers, payload: { title: 'Contract note', text: 'hello', tags: ['a'] } });
    expect(created.statusCode, created.body).toBe(201);
    const note = contract.Item.strict().parse(created.json());
    expect(note).toMatchObject({ kind: 'note', source: 'manual', type: null, version: 1 });

    contract.ItemPage.extend({ items: z.array(contract.Item.strict()) })
      .strict()
      .parse((await inject({ method: 'GET', url: '/api/items', headers })).json());
    contract.VersionList.strict().parse((await inject({ method: 'GET', url: `/api/items/${note.id}/versions`, headers })).json());
    contract.SessionList.strict().parse((await inject({ method: 'GET', url: '/api/auth/sessions', headers })).json());
    contract.UserBody.strict().parse((await inject({ method: 'GET', url: '/api/auth/me', headers })).json());

    // A job id from an import is read at /api/jobs/:id, in the contract's Job shape.
    const imported = await inject({
      method: 'POST',
      url: '/api/import/fhir',
      headers: { ...headers, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(fhirFixture('observation-cbc-hemoglobin.json')),
    });
    expect(imported.statusCode, imported.body).toBe(202);
    const { jobId } = contract.JobAccepted.strict().parse(imported.json());
    let job: contract.Job;
    for (;;) {
      job = contract.Job.strict().parse((await inject({ method: 'GET', url: `/api/jobs/${jobId}`, headers })).json());
      if (job.status === 'done' || job.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(job.status).toBe('done');
    expect(contract.JobList.parse((await inject({ method: 'GET', url: '/api/jobs', headers })).json()).jobs.map((j) => j.id)).toContain(jobId);
    const labs = contract.LabsResponse.parse((await inject({ method: 'GET', url: '/api/records/labs', headers })).json());
    expect(labs.labs.length).toBeGreaterThan(0);
    contract.LabTrend.strict().parse((await inject({ method: 'GET', url: `/api/records/labs/${labs.labs[0]!.code}`, headers })).json());
  });
});
