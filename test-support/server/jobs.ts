/** Jobs over HTTP for route tests: wait for one to end, and start the health imports that make them. */
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { multipart } from './harness.js';

type Headers = Record<string, string>;
export type Job = { status: 'queued' | 'running' | 'done' | 'failed'; result?: { imported: Record<string, number> }; error?: string };

/** Polls `GET /api/jobs/:id` until the job is done or failed (at most a minute). */
export async function waitJob(app: FastifyInstance, headers: Headers, id: string): Promise<Job> {
  for (let i = 0; ; i++) {
    const res = await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers });
    expect(res.statusCode).toBe(200);
    const job = res.json() as Job;
    if (job.status === 'done' || job.status === 'failed') return job;
    if (i > 2400) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `POST /api/import/fhir` with `body` as `type`, then the job's end. */
export async function importFhir(app: FastifyInstance, headers: Headers, body: string, type = 'application/fhir+json'): Promise<Job> {
  const res = await app.inject({ method: 'POST', url: '/api/import/fhir', headers: { ...headers, 'content-type': type }, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  return waitJob(app, headers, (res.json() as { jobId: string }).jobId);
}

/** `POST /api/import/apple-health` with `xml` as export.xml, then the job's end. */
export async function importApple(app: FastifyInstance, headers: Headers, xml: string): Promise<Job> {
  const mp = multipart({ name: 'export.xml', type: 'text/xml', data: Buffer.from(xml) }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  return waitJob(app, headers, (res.json() as { jobId: string }).jobId);
}
