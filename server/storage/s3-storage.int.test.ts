import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip, exportXml, recordXml } from '../../test-support/integrations/apple-health/export-writer.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { cookieFrom, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { makePdf } from '../../test-support/server/pdf.js';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';

type Headers = Record<string, string>;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const HR = 'HKQuantityTypeIdentifierHeartRate';

async function bucketKeys(s3: TestS3): Promise<string[]> {
  const c = s3.client();
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await c.send(new ListObjectsV2Command({ Bucket: s3.bucket, ...(token ? { ContinuationToken: token } : {}) }));
      keys.push(...(res.Contents ?? []).map((o) => o.Key!));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  } finally {
    c.destroy();
  }
}

/** Every byte the S3 server keeps (objects and its metadata files), to search for plaintext. */
async function bucketBytes(s3: TestS3): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      parts.push(Buffer.from(e.name));
      if (e.isDirectory()) await walk(p);
      else parts.push(await readFile(p));
    }
  };
  await walk(s3.directory);
  return Buffer.concat(parts);
}

async function upload(app: FastifyInstance, headers: Headers, name: string, data: Buffer) {
  const mp = multipart({ name, type: 'application/octet-stream', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; fileId: string };
}

async function download(app: FastifyInstance, headers: Headers, fileId: string): Promise<Buffer> {
  const res = await app.inject({ method: 'GET', url: `/api/files/${fileId}`, headers });
  expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
  return res.rawPayload;
}

async function waitJob(app: FastifyInstance, headers: Headers, id: string) {
  const end = Date.now() + 60_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as {
      status: string;
      error?: string;
      result?: { imported: Record<string, number> };
    };
    if (job.status === 'done' || job.status === 'failed') return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const target of dbTargets()) {
  describe(`S3 object storage (${target})`, () => {
    let s3: TestS3;
    let server: TestServer;
    const app = () => server.app;
    const canaries: string[] = [];

    beforeAll(async () => {
      s3 = await startS3Server();
      server = await startTestServer(target, s3.env);
    });
    afterAll(async () => {
      await server?.dispose();
      await s3?.stop();
    });

    it('stores uploads in the bucket and streams them back byte-exact (a large one as a multipart upload)', async () => {
      const user = await signUp(app());
      const canary = `canary-${randomBytes(8).toString('hex')}`;
      canaries.push(canary);
      const text = Buffer.from(`Lab report\n${canary}\n`.repeat(50));
      // 20 MiB: three parts of a multipart upload.
      const big = Buffer.concat([Buffer.from(canary), randomBytes(20 * 1024 * 1024)]);
      const small = await upload(app(), user.headers, 'report.txt', text);
      const large = await upload(app(), user.headers, 'scan.bin', big);
      expect((await download(app(), user.headers, small.fileId)).equals(text)).toBe(true);
      expect((await download(app(), user.headers, large.fileId)).equals(big)).toBe(true);

      // A PDF is read back from the bucket before it is kept, for its text.
      const pdf = await upload(app(), user.headers, 'lab.pdf', makePdf(`Hemoglobin ${canary}`));
      const item = await app().inject({ method: 'GET', url: `/api/items/${pdf.id}`, headers: user.headers });
      expect(item.body).toContain(canary);

      const keys = await bucketKeys(s3);
      expect(keys).toEqual(expect.arrayContaining([`files/${user.user.id}/${small.fileId}`, `files/${user.user.id}/${large.fileId}`]));
      // Nothing on the local disk: the data directory holds no file blobs.
      const local = await readdir(path.join(server.dataDir, 'files')).catch(() => [] as string[]);
      expect(local).toEqual([]);
    });

    it('imports an Apple Health zip staged in the bucket (random access by ranged GETs) and removes it after', async () => {
      const user = await signUp(app());
      const canary = `Canary${randomBytes(6).toString('hex')}`;
      canaries.push(canary);
      let body = '';
      for (let d = 1; d <= 28; d++)
        for (let h = 0; h < 24; h++)
          body += recordXml(HR, 'count/min', 50 + ((d * h) % 60), canary, `2026-02-${String(d).padStart(2, '0')} ${String(h).padStart(2, '0')}:00:00 +0000`);
      // A large stored entry ahead of export.xml, so that the reader has to seek past it.
      const zip = buildZip([
        { name: 'apple_health_export/workout-routes/route_1.gpx', data: randomBytes(3 * 1024 * 1024) },
        { name: 'apple_health_export/export.xml', data: exportXml(body) },
      ]);
      const mp = multipart({ name: 'export.zip', type: 'application/zip', data: zip }, {}, user.headers);
      const res = await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
      expect(res.statusCode, res.body).toBe(202);
      const job = await waitJob(app(), user.headers, (res.json() as { jobId: string }).jobId);
      expect(job.status, job.error).toBe('done');
      expect(job.result!.imported[HR]).toBe(28 * 24);
      const series = (
        await app().inject({ method: 'GET', url: `/api/records/series?type=${HR}&from=2026-02-01&to=2026-02-28`, headers: user.headers })
      ).json() as { days: Array<{ count: number }> };
      expect(series.days.reduce((a, d) => a + d.count, 0)).toBe(28 * 24);
      // The staged upload went with its job.
      expect((await bucketKeys(s3)).filter((k) => k.startsWith(`imports/${user.user.id}/`))).toEqual([]);
    });

    it("deletes a purged file's object and every object of a deleted account", async () => {
      const user = await signUp(app());
      const a = await upload(app(), user.headers, 'a.bin', randomBytes(70_000));
      const b = await upload(app(), user.headers, 'b.bin', randomBytes(70_000));
      expect((await app().inject({ method: 'DELETE', url: `/api/items/${a.id}`, headers: user.headers })).statusCode).toBe(204);
      expect((await app().inject({ method: 'DELETE', url: `/api/trash/${a.id}`, headers: user.headers })).statusCode).toBe(204);
      let mine = (await bucketKeys(s3)).filter((k) => k.includes(user.user.id));
      expect(mine).toEqual([`files/${user.user.id}/${b.fileId}`]);

      const del = await app().inject({ method: 'DELETE', url: '/api/account', headers: user.headers, payload: { passphrase: user.passphrase } });
      expect(del.statusCode, del.body).toBe(204);
      mine = (await bucketKeys(s3)).filter((k) => k.includes(user.user.id));
      expect(mine).toEqual([]);
    });

    it('the bucket holds only ciphertext under random names', async () => {
      const keys = await bucketKeys(s3);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k).toMatch(new RegExp(`^(files|imports)/${UUID}/${UUID}$`));
      const bytes = await bucketBytes(s3);
      expect(canaries.filter((c) => bytes.includes(Buffer.from(c)))).toEqual([]);
      // Filenames and content types are sealed too.
      expect(bytes.includes(Buffer.from('report.txt'))).toBe(false);
      expect(bytes.includes(Buffer.from('Lab report'))).toBe(false);
    });

    // Two processes on one embedded PGlite cannot be: this one needs PostgreSQL.
    if (target === 'postgres')
      it('two app instances on one database share the bucket: uploaded through A, downloaded byte-exact through B', async () => {
        const dirB = await mkdtemp(path.join(tmpdir(), 'cv-test-b-'));
        const serverKey = (await readFile(path.join(server.dataDir, 'server.key'), 'utf8')).trim();
        const logs = new PassThrough();
        logs.resume();
        const appB = await buildApp({ config: loadConfig({ ...server.env, DATA_DIR: dirB, SERVER_KEY: serverKey }), logStream: logs });
        try {
          await appB.ready();
          const user = await signUp(app());
          const data = Buffer.concat([Buffer.from('shared bytes '), randomBytes(9 * 1024 * 1024 + 777)]);
          const up = await upload(app(), user.headers, 'shared.bin', data);
          // B holds no keys for A's session: the person signs in there, as they would behind a balancer.
          const login = await appB.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
          expect(login.statusCode, login.body).toBe(200);
          const headersB = { cookie: cookieFrom(login.headers['set-cookie']) };
          expect((await download(appB, headersB, up.fileId)).equals(data)).toBe(true);
          // And the other way round.
          const back = randomBytes(100_000);
          const up2 = await upload(appB, headersB, 'back.bin', back);
          expect((await download(app(), user.headers, up2.fileId)).equals(back)).toBe(true);
        } finally {
          await appB.close();
          await rm(dirB, { recursive: true, force: true });
        }
      });
  });
}
