import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAppleHealthExport, type ExportSummary } from '../../bench/generators/apple-health.js';
import { createPgDatabase, dbTargets, multipart } from '../../test-support/server/harness.js';
import { ServerProcess } from '../../test-support/server/server-process.js';
import { expectSeriesAsGenerated } from '../../test-support/server/series-check.js';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';

// Two app instances, each the real server in its own process, on one PostgreSQL database and one
// bucket on a real S3 protocol server (s3rver, its own process): a file uploaded through A reads
// back byte-exact through B, a logout on A reaches B's session cache, a job of an
// instance killed with SIGKILL resumes on the other once its owner signs in there, each due sync
// is started by one instance only, and the per-IP limit counts both instances' requests together.

interface Job {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: { done: number; total?: number };
  error?: string;
  errorCode?: string;
}

const AUTH_PER_MIN = 8;

/** Polls `probe` until it returns a value, or fails after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const targets = dbTargets().filter((t) => t === 'postgres');

if (targets.length === 0) {
  describe('two app instances on one PostgreSQL', () => {
    it('needs TEST_DATABASE_URL (CI sets it, with REQUIRE_POSTGRES_TESTS=1)', () => {
      // dbTargets() throws when REQUIRE_POSTGRES_TESTS=1 and no URL is set, so CI cannot get here.
      expect(process.env.REQUIRE_POSTGRES_TESTS).not.toBe('1');
    });
  });
}

for (const target of targets) {
  describe(`two app instances on one database (${target})`, () => {
    let dir: string;
    let gen: ExportSummary;
    let dropDb: () => Promise<void>;
    let admin: pg.Client;
    let a: ServerProcess;
    let b: ServerProcess;
    let s3: TestS3;
    const passphrase = 'correct horse battery staple';

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'cv-two-'));
      gen = await writeAppleHealthExport(path.join(dir, 'export.xml'), { order: 'grouped', days: 8 });
      const db = await createPgDatabase();
      dropDb = db.dispose;
      const dataDir = path.join(dir, 'data');
      await mkdir(dataDir);
      s3 = await startS3Server();
      const env = {
        ...s3.env,
        DATABASE_URL: db.url,
        DATA_DIR: dataDir,
        SERVER_KEY: randomBytes(32).toString('base64'),
        RATE_LIMIT_AUTH_PER_MIN: String(AUTH_PER_MIN),
        JOB_LEASE_S: '2',
        SYNC_TICK_S: '1',
      };
      a = new ServerProcess('A', env);
      b = new ServerProcess('B', env);
      // A migrates the empty database first; B then finds it current. Each start runs the server
      // under tsx, which takes minutes of wall time on a loaded machine (the hook allows for it).
      await a.start();
      await b.start();
      admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
    }, 240_000);

    afterAll(async () => {
      await admin?.end();
      await Promise.all([a?.kill('SIGKILL'), b?.kill('SIGKILL')]);
      await dropDb?.();
      await s3?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('a logout on A refuses the cookie on B within a second', async () => {
      // Each instance holds one LISTEN connection; without it B would bypass its session cache
      // and this test would prove nothing about the cache.
      const listeners = await admin.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where datname = current_database() and query ilike 'listen %'`,
      );
      expect(Number(listeners.rows[0]!.n)).toBe(2);
      const email = `logout-${randomBytes(4).toString('hex')}@example.com`;
      const reg = await a.call('POST', '/api/auth/register', undefined, { email, passphrase });
      expect(reg.status).toBe(201);
      const cookie = reg.cookie!;
      // B unlocks the session and keeps it in its cache.
      expect((await b.call('GET', '/api/auth/me', cookie)).status).toBe(200);
      expect((await b.call('GET', '/api/auth/me', cookie)).status).toBe(200);
      expect((await a.call('POST', '/api/auth/logout', cookie)).status).toBe(204);
      const loggedOut = Date.now();
      await until('B to refuse the cookie', 1000, async () => ((await b.call('GET', '/api/auth/me', cookie)).status === 401 ? true : undefined));
      console.log(`B refused the old cookie ${Date.now() - loggedOut} ms after the logout on A`);
      expect((await a.call('GET', '/api/auth/me', cookie)).status).toBe(401);
    });

    it('a file uploaded through A downloads byte-exact through B (one S3 bucket)', async () => {
      const email = `file-${randomBytes(4).toString('hex')}@example.com`;
      const reg = await a.call('POST', '/api/auth/register', undefined, { email, passphrase });
      expect(reg.status).toBe(201);
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const mp = multipart({ name: 'scan.bin', type: 'application/octet-stream', data: bytes }, {}, { cookie: reg.cookie! });
      const up = await fetch(`${a.url}/api/files`, { method: 'POST', headers: mp.headers, body: mp.payload });
      expect(up.status).toBe(201);
      const { fileId } = (await up.json()) as { fileId: string };
      const down = await fetch(`${b.url}/api/files/${fileId}`, { headers: { cookie: reg.cookie! } });
      expect(down.status).toBe(200);
      expect(Buffer.from(await down.arrayBuffer()).equals(bytes)).toBe(true);
      // Nothing of it on either instance's disk: the bucket holds the (encrypted) file.
      expect(await readdir(path.join(dir, 'data', 'files')).catch(() => [])).toEqual([]);
    });

    it('an import through A, killed at about half way, resumes on B after sign-in; every sample once', async () => {
      const email = `import-${randomBytes(4).toString('hex')}@example.com`;
      const reg = await a.call('POST', '/api/auth/register', undefined, { email, passphrase });
      expect(reg.status).toBe(201);
      const jobId = await a.upload(reg.cookie!, gen.path);
      const mid = await until('the import to pass 30 %', 60_000, async () => {
        const j = (await a.call<Job>('GET', `/api/jobs/${jobId}`, reg.cookie)).body;
        if (j.status === 'done' || j.status === 'failed') throw new Error(`the import ended before the kill (${j.status})`);
        return j.progress.total !== undefined && j.progress.done >= j.progress.total * 0.3 ? j : undefined;
      });
      await a.kill('SIGKILL');
      console.log(`A killed at ${Math.round((100 * mid.progress.done) / mid.progress.total!)} %`);
      const row = await admin.query<{ status: string; attempts: number }>('select status, attempts from jobs where id = $1', [jobId]);
      expect(row.rows[0]).toMatchObject({ status: 'running', attempts: 1 });

      const login = await b.call('POST', '/api/auth/login', undefined, { email, passphrase });
      expect(login.status).toBe(200);
      const cookie = login.cookie!;
      const done = await until('the job to end on B', 90_000, async () => {
        const j = (await b.call<Job>('GET', `/api/jobs/${jobId}`, cookie)).body;
        return j.status === 'done' || j.status === 'failed' ? j : undefined;
      });
      expect(done.status, done.error).toBe('done');
      const after = await admin.query<{ attempts: number }>('select attempts from jobs where id = $1', [jobId]);
      expect(after.rows[0]!.attempts).toBe(2);

      await expectSeriesAsGenerated(b, cookie, gen);
      await a.start();
    }, 180_000);

    it('each due sync is started by one instance, and its job is read at /api/jobs/:id on either', async () => {
      const users: Array<{ id: string; cookie: string }> = [];
      for (let i = 0; i < 2; i++) {
        const r = await b.call<{ user: { id: string } }>('POST', '/api/auth/register', undefined, {
          email: `sync-${i}-${randomBytes(4).toString('hex')}@example.com`,
          passphrase,
        });
        expect(r.status).toBe(201);
        users.push({ id: r.body.user.id, cookie: r.cookie! });
      }
      // Due integrations without a stored grant: each sync runs and stops at once (reauth_required),
      // which is all this needs: how many times each one was started.
      for (const u of users) {
        for (const provider of ['epic', 'google_health']) {
          await admin.query(
            `insert into integrations (id, user_id, provider, status, next_sync_at) values ($1, $2, $3, 'connected', now() - interval '1 minute')`,
            [randomUUID(), u.id, provider],
          );
        }
      }
      const ids = await until('every due sync to have run', 20_000, async () => {
        const r = await admin.query<{ id: string }>(`select id from jobs where kind like 'sync:%' and status = 'failed'`);
        return r.rows.length >= 4 ? r.rows.map((x) => x.id) : undefined;
      });
      // Both instances tick every second: let several more ticks pass before counting.
      await new Promise((r) => setTimeout(r, 3000));
      const counts = await admin.query<{ user_id: string; kind: string; n: string }>(
        `select user_id, kind, count(*) as n from jobs where kind like 'sync:%' group by user_id, kind`,
      );
      expect(counts.rows).toHaveLength(4);
      for (const c of counts.rows) expect(Number(c.n), `${c.kind} of ${c.user_id}`).toBe(1);
      const owner = await admin.query<{ user_id: string }>('select user_id from jobs where id = $1', [ids[0]]);
      const cookie = users.find((u) => u.id === owner.rows[0]!.user_id)!.cookie;
      for (const inst of [a, b]) {
        const j = await inst.call<Job>('GET', `/api/jobs/${ids[0]}`, cookie);
        expect(j.status).toBe(200);
        expect(j.body).toMatchObject({ id: ids[0], status: 'failed', errorCode: 'reauth_required' });
        expect(j.body.kind).toMatch(/^sync:/);
      }
    }, 60_000);

    it('a per-IP limit holds across both instances', async () => {
      const statuses: number[] = [];
      // An unused rate-limited route, so the other tests' sign-ins do not count here.
      for (let i = 0; i < AUTH_PER_MIN + 2; i++) {
        const inst = i % 2 === 0 ? a : b;
        statuses.push((await inst.call('POST', '/api/auth/recover', undefined, { email: 'nobody@example.com' })).status);
      }
      expect(statuses.slice(0, AUTH_PER_MIN).every((s) => s === 400)).toBe(true);
      expect(statuses.slice(AUTH_PER_MIN)).toEqual([429, 429]);
    });
  });
}
