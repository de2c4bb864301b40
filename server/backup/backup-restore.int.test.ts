import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { cookieFrom, createPgDatabase, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Runs `npm run backup|restore` the way an operator does: its own process, the server's env. */
function cli(script: 'backup' | 'restore', args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `server/cli/${script}.ts`, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

interface Person {
  email: string;
  passphrase: string;
  notes: Map<string, string>;
  files: Map<string, Buffer>;
}

async function seed(app: FastifyInstance, canaries: string[]): Promise<Person> {
  const user = await signUp(app);
  const person: Person = { email: user.email, passphrase: user.passphrase, notes: new Map(), files: new Map() };
  for (let i = 0; i < 3; i++) {
    const canary = `canary${randomBytes(6).toString('hex')}`;
    canaries.push(canary);
    const res = await app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: `Note ${canary}`, text: `Body ${canary}` } });
    expect(res.statusCode, res.body).toBe(201);
    person.notes.set(res.json().id, `Body ${canary}`);
  }
  for (const size of [11, 200_000]) {
    const canary = `canary${randomBytes(6).toString('hex')}`;
    canaries.push(canary);
    const data = Buffer.concat([Buffer.from(`${canary}\n`), randomBytes(size)]);
    const mp = multipart({ name: `${canary}.bin`, type: 'application/octet-stream', data }, {}, user.headers);
    const res = await app.inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(201);
    person.files.set(res.json().fileId, data);
  }
  return person;
}

/** Signs in on the restored install and reads every note and file back. */
async function verify(app: FastifyInstance, person: Person): Promise<void> {
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: person.email, passphrase: person.passphrase } });
  expect(login.statusCode, login.body).toBe(200);
  const headers = { cookie: cookieFrom(login.headers['set-cookie']) };
  for (const [id, text] of person.notes) {
    const res = await app.inject({ method: 'GET', url: `/api/items/${id}`, headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().text).toBe(text);
  }
  for (const [fileId, data] of person.files) {
    const res = await app.inject({ method: 'GET', url: `/api/files/${fileId}`, headers });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(data)).toBe(true);
  }
}

async function untarNames(plain: Buffer): Promise<{ names: string[]; bytes: Buffer }> {
  const ex = tar.extract();
  const names: string[] = [];
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const e of ex) {
      names.push(e.header.name);
      for await (const c of e) parts.push(c as Buffer);
    }
  })();
  ex.end(plain);
  await done;
  return { names, bytes: Buffer.concat(parts) };
}

for (const target of dbTargets()) {
  for (const storage of ['local', 's3'] as const) {
    describe(`backup → wipe → restore (${target}, ${storage} files)`, () => {
      let s3: TestS3 | undefined;
      let server: TestServer;
      let work: string;
      const cleanups: Array<() => Promise<void>> = [];

      beforeAll(async () => {
        work = await mkdtemp(path.join(tmpdir(), 'cv-backup-'));
        if (storage === 's3') s3 = await startS3Server('cv-live');
        server = await startTestServer(target, s3?.env ?? {});
      });
      afterAll(async () => {
        await server?.dispose();
        for (const c of cleanups.reverse()) await c().catch(() => {});
        await s3?.stop();
        await rm(work, { recursive: true, force: true });
      });

      // Several processes (backup, two restores, a server) on a busy machine: minutes, not seconds.
      it('restores every user, item and file byte-exact into an empty install, and refuses a non-empty one', { timeout: 400_000 }, async () => {
        const canaries: string[] = [];
        const people = [await seed(server.app, canaries), await seed(server.app, canaries)];
        // PGlite is single-process: the backup runs with the server stopped (as documented).
        await server.stop();

        const keyFile = path.join(work, 'backup-key.txt');
        await run('age-keygen', ['-o', keyFile]);
        const recipient = (await run('age-keygen', ['-y', keyFile])).stdout.trim();
        const backups = path.join(work, 'backups');
        const b = await cli('backup', ['--to', backups, '--recipient', recipient], server.env);
        expect(b.code, b.stderr).toBe(0);
        expect(b.stderr).toMatch(/4 files/);
        const [name] = await readdir(backups);
        expect(name).toMatch(/^context-vault-\d{8}T\d{6}Z\.tar\.age$/);
        const file = path.join(backups, name!);

        // The age tool opens it; inside, only ciphertext: no canary from any note or file.
        const { stdout: plain } = await run('age', ['-d', '-i', keyFile, file], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
        const { names, bytes } = await untarNames(plain);
        expect(names.slice(0, 2)).toEqual(['manifest.json', 'server.key']);
        expect(names).toContain(target === 'postgres' ? 'database.pgdump' : 'pg/PG_VERSION');
        expect(names.filter((n) => n.startsWith('files/'))).toHaveLength(4);
        expect(names.at(-1)).toBe('end.json');
        expect(canaries.filter((c) => bytes.includes(Buffer.from(c)))).toEqual([]);
        expect(canaries.filter((c) => (plain as Buffer).includes(Buffer.from(c)))).toEqual([]);

        // Wipe: a new, empty install (new data directory, new database, new bucket).
        const fresh = await mkdtemp(path.join(tmpdir(), 'cv-restored-'));
        cleanups.push(() => rm(fresh, { recursive: true, force: true }));
        const env: Record<string, string> = { ...server.env, DATA_DIR: fresh };
        if (target === 'postgres') {
          const db = await createPgDatabase();
          cleanups.push(db.dispose);
          env.DATABASE_URL = db.url;
        }
        if (s3) {
          await s3.createBucket('cv-restored');
          env.S3_BUCKET = 'cv-restored';
        }
        const bad = await cli('restore', ['--identity', path.join(work, 'nope.txt'), file], env).catch((e: Error) => ({ code: -1, stderr: e.message }));
        expect(bad.code).not.toBe(0);
        const r = await cli('restore', ['--identity', keyFile, file], env);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/4 files/);
        // The restored server key is the original one.
        expect((await readFile(path.join(fresh, 'server.key'), 'utf8')).trim()).toBe((await readFile(path.join(server.dataDir, 'server.key'), 'utf8')).trim());

        // Now it holds data: a second restore refuses, and changes nothing.
        const again = await cli('restore', ['--identity', keyFile, file], env);
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/Refusing to restore/);

        const logs = new PassThrough();
        logs.resume();
        const app = await buildApp({ config: loadConfig(env), logStream: logs });
        try {
          await app.ready();
          for (const p of people) await verify(app, p);
        } finally {
          await app.close();
        }
      });
    });
  }
}
