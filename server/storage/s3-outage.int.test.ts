import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/index.js';
import { dbTargets, multipart, openTestDatabase, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';
import { S3ObjectStore } from './s3-store.js';
import { closedPort } from '../../test-support/server/cli.js';

type LogLine = { level: number; msg: string; err?: { message?: string; code?: string } };
const logLines = (server: TestServer): LogLine[] =>
  server
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

// The file's name is the canary: it must not reach an error answer's headers.
const FILE_NAME = 'ZQFILECANARY-report.txt';

for (const target of dbTargets()) {
  describe(`object storage outage (${target})`, () => {
    let s3: TestS3;
    let server: TestServer;
    let endpoint: string;
    let port: string;
    let user: Awaited<ReturnType<typeof signUp>>;
    let fileId: string;
    const app = () => server.app;

    beforeAll(async () => {
      s3 = await startS3Server();
      endpoint = s3.endpoint;
      port = new URL(endpoint).port;
      server = await startTestServer(target, s3.env);
      user = await signUp(app());
      const mp = multipart({ name: FILE_NAME, type: 'text/plain', data: Buffer.from('kept before the outage\n') }, {}, user.headers);
      const res = await app().inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload });
      expect(res.statusCode, res.body).toBe(201);
      fileId = (res.json() as { fileId: string }).fileId;
    });
    afterAll(async () => {
      await server?.dispose();
      await s3?.stop();
    });

    it('GET /health/storage answers ok while the bucket answers', async () => {
      const res = await app().inject({ method: 'GET', url: '/health/storage' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
      // And the download works, with its attachment headers.
      const dl = await app().inject({ method: 'GET', url: `/api/files/${fileId}`, headers: user.headers });
      expect(dl.statusCode).toBe(200);
      expect(dl.headers['content-disposition']).toContain(FILE_NAME);
      expect(dl.body).toBe('kept before the outage\n');
    });

    it('with the S3 server stopped: downloads, uploads, imports, exports and the readiness probe answer 503, naming S3_ENDPOINT in the log only', async () => {
      await s3.stop();
      const cause = `ECONNREFUSED 127.0.0.1:${port}`;

      // A download: a JSON 503, and no attachment header carrying the file's name.
      const dl = await app().inject({ method: 'GET', url: `/api/files/${fileId}`, headers: user.headers });
      expect(dl.headers['content-disposition']).toBeUndefined();
      expect(dl.statusCode, dl.body).toBe(503);
      expect(dl.json()).toEqual({ error: { code: 'storage_unavailable', message: expect.any(String) } });
      expect(dl.headers['content-type']).toMatch(/^application\/json/);
      expect(dl.headers['retry-after']).toBe('30');
      expect(JSON.stringify(dl.headers)).not.toContain('ZQFILECANARY');

      // An upload: 503, and nothing of it kept (no row; the object never was).
      const before = await holdings(server, user.headers, user.user.id);
      expect(before.items).toBe(1);
      const mp = multipart({ name: 'ZQFILECANARY-new.bin', type: 'application/octet-stream', data: randomBytes(70_000) }, {}, user.headers);
      const up = await app().inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload });
      expect(up.statusCode, up.body).toBe(503);
      expect(up.json()).toEqual({ error: { code: 'storage_unavailable', message: expect.any(String) } });
      expect(up.headers['retry-after']).toBe('30');
      expect(await holdings(server, user.headers, user.user.id)).toEqual(before);

      // Imports and exports store or read blobs too: the same retryable 503, no job left behind.
      const jobsBefore = (await app().inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json() as { jobs: unknown[] };
      const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] };
      const fhir = await app().inject({
        method: 'POST',
        url: '/api/import/fhir',
        headers: { ...user.headers, 'content-type': 'application/json' },
        payload: bundle,
      });
      const apple = multipart({ name: 'export.xml', type: 'application/xml', data: Buffer.from('<HealthData></HealthData>') }, {}, user.headers);
      const ah = await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: apple.headers, payload: apple.payload });
      const ex = await app().inject({
        method: 'POST',
        url: '/api/export',
        headers: { ...user.headers, 'content-type': 'application/json' },
        payload: { passphrase: user.passphrase },
      });
      for (const res of [fhir, ah, ex]) {
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toEqual({ error: { code: 'storage_unavailable', message: expect.any(String) } });
        expect(res.headers['retry-after']).toBe('30');
        expect(res.headers['content-disposition']).toBeUndefined();
      }
      expect((await app().inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json()).toEqual(jobsBefore);

      // Readiness.
      const health = await app().inject({ method: 'GET', url: '/health/storage' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toEqual({ status: 'unavailable' });

      // The log says what failed and why, at each step: the write (not the delete that followed
      // it), the read, the probe; the failed clean-up only as a warning. No credential.
      const lines = logLines(server);
      const unavailable = lines.filter((l) => l.msg === 'object storage unavailable').map((l) => l.err?.message);
      expect(unavailable).toEqual([
        `S3_ENDPOINT: object storage at ${endpoint} does not answer (read: ${cause})`,
        `S3_ENDPOINT: object storage at ${endpoint} does not answer (write: ${cause})`,
        `S3_ENDPOINT: object storage at ${endpoint} does not answer (write: ${cause})`,
        `S3_ENDPOINT: object storage at ${endpoint} does not answer (write: ${cause})`,
        `S3_ENDPOINT: object storage at ${endpoint} does not answer (check: ${cause})`,
      ]);
      const cleanup = lines.filter((l) => l.msg === 'removing a failed upload from storage failed');
      expect(cleanup.map((l) => [l.level, l.err?.message])).toEqual([[40, `S3_ENDPOINT: object storage at ${endpoint} does not answer (delete: ${cause})`]]);
      const probe = lines.filter((l) => l.msg === 'object storage is not ready').map((l) => l.err?.message);
      expect(probe).toEqual([`S3_ENDPOINT: object storage at ${endpoint} does not answer (check: ${cause})`]);
      expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
      expect(server.logs()).not.toContain(s3.secretAccessKey);
      expect(server.logs()).not.toContain('ZQFILECANARY');
    });

    it('a server started with S3_ENDPOINT pointing at nothing stops with a line naming the variable', async () => {
      const dead = `http://127.0.0.1:${await closedPort()}`;
      const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-test-s3down-'));
      const { db, dispose } = await openTestDatabase(target);
      const logs = new PassThrough();
      logs.resume();
      try {
        const config = loadConfig({ ...s3.env, S3_ENDPOINT: dead, DATA_DIR: dataDir, SANDBOX_RUNTIME: 'none', LOG_LEVEL: 'error' });
        const err = await buildApp({ config, db, logStream: logs }).then(
          async (a) => {
            await a.close();
            return undefined;
          },
          (e: Error) => e,
        );
        expect(err?.message).toMatch(
          new RegExp(
            `^S3_ENDPOINT: object storage at ${dead.replace(/[.]/g, '\\.')} does not answer \\(\\w+: ECONNREFUSED 127\\.0\\.0\\.1:${new URL(dead).port}\\)$`,
          ),
        );
        expect(err?.message).not.toContain(s3.secretAccessKey);
      } finally {
        await dispose();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}

/**
 * What the user has: their items (through the API, on either database) and, on PostgreSQL, their
 * file rows (an embedded database's directory is the running server's alone).
 */
async function holdings(server: TestServer, headers: Record<string, string>, userId: string): Promise<{ items: number; files: number | null }> {
  const page = (await server.app.inject({ method: 'GET', url: '/api/items?limit=100', headers })).json() as { items: unknown[] };
  if (!server.env.DATABASE_URL) return { items: page.items.length, files: null };
  const { db } = await openDatabase({ url: server.env.DATABASE_URL });
  try {
    const r = await sql<{ n: number }>`select count(*)::int as n from files where user_id = ${userId}`.execute(db);
    return { items: page.items.length, files: r.rows[0]!.n };
  } finally {
    await db.destroy();
  }
}

describe('S3ObjectStore errors', () => {
  it('name the operation and the network cause, and never the credentials or the endpoint URL’s user:password', async () => {
    const port = await closedPort();
    const store = new S3ObjectStore({
      kind: 's3',
      endpoint: `http://zquser:ZQsecretPW@127.0.0.1:${port}/base`,
      bucket: 'cv-nowhere',
      region: 'us-east-1',
      accessKeyId: 'ZQACCESSKEY',
      secretAccessKey: 'ZQSECRETKEY',
      forcePathStyle: true,
      prefix: '',
    });
    try {
      const err = (await store.size('files/a').catch((e: unknown) => e)) as Error & { code?: string };
      expect(err.message).toBe(`S3_ENDPOINT: object storage at http://127.0.0.1:${port} does not answer (head: ECONNREFUSED 127.0.0.1:${port})`);
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      const check = (await store.check(2000).catch((e: unknown) => e)) as Error & { code?: string };
      expect(check.message).toBe(`S3_ENDPOINT: object storage at http://127.0.0.1:${port} does not answer (check: ECONNREFUSED 127.0.0.1:${port})`);
      for (const e of [err, check])
        for (const secret of ['ZQsecretPW', 'zquser', 'ZQACCESSKEY', 'ZQSECRETKEY', 'cv-nowhere']) expect(e.message).not.toContain(secret);
    } finally {
      await store.close();
    }
  });
});

describe('S3ObjectStore against a bucket that accepts connections and never answers', () => {
  it('fails each request as storage unavailable (timed out) instead of waiting for ever', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // reads the request, answers nothing
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const store = new S3ObjectStore(
      {
        kind: 's3',
        endpoint: `http://127.0.0.1:${port}`,
        bucket: 'cv-silent',
        region: 'us-east-1',
        accessKeyId: 'a',
        secretAccessKey: 'b',
        forcePathStyle: true,
        prefix: '',
      },
      { connectMs: 1_000, idleMs: 300 },
    );
    try {
      const errors = await Promise.all([
        store.size('files/a').catch((e: unknown) => e),
        store.readRange('files/a', 0, 10).catch((e: unknown) => e),
        store.delete('files/a').catch((e: unknown) => e),
      ]);
      for (const err of errors as Array<Error & { code?: string }>) {
        expect(err.code).toBe('STORAGE_UNAVAILABLE');
        expect(err.message).toMatch(
          new RegExp(`^S3_ENDPOINT: object storage at http://127\\.0\\.0\\.1:${port} does not answer \\(\\S+( \\S+)?: timed out\\)$`),
        );
      }
      // A read stream fails too, rather than leaving a download hanging.
      const read = store.createReadStream('files/a');
      const readErr = await new Promise<Error & { code?: string }>((resolve) => read.once('error', resolve));
      expect(readErr.code).toBe('STORAGE_UNAVAILABLE');
    } finally {
      await store.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
