import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerEntry as run } from '../../test-support/server/cli.js';
import { createPgDatabase, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';

const execp = promisify(execFile);
const DAMAGED = 'The backup is damaged or cut off (while it was written, copied or stored); nothing was restored. Use another backup.\n';

/** Every regular file under `dir`: a failed restore must leave none behind. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

async function publicTables(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(`select count(*) as n from information_schema.tables where table_schema = 'public'`)).rows[0]!.n);
  } finally {
    await c.end();
  }
}

for (const target of dbTargets()) {
  describe(`npm run restore of a damaged or missing backup (${target})`, () => {
    let install: TestServer;
    let work: string;
    let keyFile: string;
    let good: string;
    const cleanups: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      work = await mkdtemp(path.join(tmpdir(), 'cv-restore-damaged-'));
      install = await startTestServer(target);
      const user = await signUp(install.app);
      const mp = multipart({ name: 'a.bin', type: 'application/octet-stream', data: randomBytes(300_000) }, {}, user.headers);
      expect((await install.app.inject({ method: 'POST', url: '/api/files', headers: mp.headers, payload: mp.payload })).statusCode).toBe(201);
      await install.stop();
      keyFile = path.join(work, 'key.txt');
      await execp('age-keygen', ['-o', keyFile]);
      const recipient = (await execp('age-keygen', ['-y', keyFile])).stdout.trim();
      const b = await run('cli/backup', ['--to', path.join(work, 'backups'), '--recipient', recipient], install.env);
      expect(b.code, b.stderr).toBe(0);
      good = path.join(work, 'backups', (await readdir(path.join(work, 'backups')))[0]!);
    }, 300_000);
    afterAll(async () => {
      await install?.dispose();
      for (const c of cleanups.reverse()) await c().catch(() => {});
      await rm(work, { recursive: true, force: true });
    });

    /** A new, empty install to restore into, as the docs describe. */
    async function emptyInstall(): Promise<{ env: Record<string, string>; dataDir: string; url?: string }> {
      const dataDir = await mkdtemp(path.join(work, 'fresh-'));
      const env: Record<string, string> = { DATA_DIR: dataDir };
      if (target !== 'postgres') return { env, dataDir };
      const db = await createPgDatabase();
      cleanups.push(db.dispose);
      return { env: { ...env, DATABASE_URL: db.url }, dataDir, url: db.url };
    }

    const damaged = {
      'cut 1000 bytes short': (b: Buffer) => b.subarray(0, b.length - 1000),
      'cut in half': (b: Buffer) => b.subarray(0, b.length >> 1),
      'with one byte flipped': (b: Buffer) => {
        const c = Buffer.from(b);
        const at = c.length - 5000;
        c[at] = c[at]! ^ 1;
        return c;
      },
    };
    for (const [how, spoil] of Object.entries(damaged)) {
      it(`refuses a backup ${how}, leaves the install empty, and a retry with the whole backup works`, { timeout: 300_000 }, async () => {
        const bad = path.join(work, `bad-${randomBytes(4).toString('hex')}.tar.age`);
        await writeFile(bad, spoil(await readFile(good)));
        const into = await emptyInstall();

        const sut = await run('cli/restore', ['--identity', keyFile, bad], into.env);
        expect(sut).toMatchObject({ code: 1, stderr: DAMAGED });
        expect(await filesUnder(into.dataDir)).toEqual([]);
        if (into.url) expect(await publicTables(into.url)).toBe(0);

        const retry = await run('cli/restore', ['--identity', keyFile, good], into.env);
        expect(retry.code, retry.stderr).toBe(0);
        expect(retry.stderr).toMatch(/^Restored the database and 1 files/);
        expect((await stat(path.join(into.dataDir, 'server.key'))).isFile()).toBe(true);
      });
    }

    it('says a missing backup file is not found, not a wrong identity', { timeout: 60_000 }, async () => {
      const into = await emptyInstall();
      const sut = await run('cli/restore', ['--identity', keyFile, path.join(work, 'no-such-backup.tar.age')], into.env);
      expect(sut).toMatchObject({ code: 1, stderr: 'The backup was not found: there is no such file or object.\n' });
    });

    // Once is enough: the source is the same whatever the database kind.
    if (target === 'pglite')
      it('says a missing S3 object is not found, and refuses an invalid bucket name (exit 2)', { timeout: 60_000 }, async () => {
        let s3: TestS3 | undefined;
        try {
          s3 = await startS3Server('cv-backups');
          const into = await emptyInstall();
          const env = { ...into.env, ...s3.env, S3_BUCKET: 'cv-files' };
          await s3.createBucket('cv-files');
          const missing = await run('cli/restore', ['--identity', keyFile, 's3://cv-backups/vault/context-vault-20260101T000000Z.tar.age'], env);
          expect(missing).toMatchObject({ code: 1, stderr: 'The backup was not found: there is no such file or object.\n' });
          const invalid = await run('cli/restore', ['--identity', keyFile, 's3://CV_Backups/vault/x.tar.age'], env);
          expect(invalid.code).toBe(2);
          expect(invalid.stderr).toMatch(/^BACKUP_TARGET: not a valid S3 bucket name/);
        } finally {
          await s3?.stop();
        }
      });
  });
}
