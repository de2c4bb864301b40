import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { healthRoutes } from '../routes/health/index.js';
import { dbTargets, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { LocalObjectStore } from './local-store.js';

for (const target of dbTargets()) {
  describe(`GET /health/storage on local storage (${target})`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(target);
    });
    afterAll(async () => {
      await server?.dispose();
    });

    it('answers ok while DATA_DIR is writable', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/health/storage' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });
  });
}

describe('local storage readiness', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-local-check-'));
    await writeFile(path.join(dir, 'a-file'), 'x');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a writable folder is ready, also one not made yet (its parent is checked)', async () => {
    await expect(new LocalObjectStore(dir).check()).resolves.toBeUndefined();
    await expect(new LocalObjectStore(path.join(dir, 'files', 'later')).check()).resolves.toBeUndefined();
  });

  it('a file where the folder should be is not', async () => {
    await expect(new LocalObjectStore(path.join(dir, 'a-file')).check()).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(new LocalObjectStore(path.join(dir, 'a-file', 'files')).check()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('the route answers 503 unavailable when the data directory cannot be used', async () => {
    const app = Fastify({ logger: false });
    await app.register(healthRoutes({ db: {} as Database, hasWeb: false, storage: { kind: 'local', root: path.join(dir, 'a-file') } }));
    try {
      const res = await app.inject({ method: 'GET', url: '/health/storage' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await app.close();
    }
  });
});
