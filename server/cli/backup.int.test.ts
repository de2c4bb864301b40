import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupName } from '../backup/target.js';
import { runServerEntry as run } from '../../test-support/server/cli.js';
import { createPgDatabase, dbTargets, pgliteTemplate, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const execp = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const USAGE = 'Usage: npm run backup -- --to DIR|s3://bucket/prefix --recipient age1… [--every HOURS] [--keep N]';

/** Runs `npm run backup` with a schedule until it has written `runs` backups (or exited by itself). */
function scheduled(args: string[], env: Record<string, string>, runs: number): Promise<{ exitedByItself: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/backup.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let stopped = false;
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!stopped && (stderr.match(/^Backup context-vault-/gm) ?? []).length >= runs) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ exitedByItself: !stopped, code, stderr }));
  });
}

describe('npm run backup: what it refuses, and its schedule', () => {
  let work: string;
  let recipient: string;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'cv-backup-cli-'));
    const keyFile = path.join(work, 'key.txt');
    await execp('age-keygen', ['-o', keyFile]);
    recipient = (await execp('age-keygen', ['-y', keyFile])).stdout.trim();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await rm(work, { recursive: true, force: true });
  });

  /** A backup directory holding one good backup, which a refused run must leave alone. */
  async function targetWithOneBackup(): Promise<{ dir: string; old: string }> {
    const dir = await mkdtemp(path.join(work, 'bk-'));
    const old = backupName(new Date(Date.UTC(2026, 0, 1)));
    await writeFile(path.join(dir, old), 'a good backup');
    return { dir, old };
  }

  it('refuses a DATA_DIR with no install (exit 1), creates nothing there and deletes no backup', async () => {
    const { dir, old } = await targetWithOneBackup();
    const typo = path.join(work, 'no-such-data-dir');
    const sut = await run('cli/backup', ['--to', dir, '--recipient', recipient, '--keep', '1'], { DATA_DIR: typo });
    expect(sut).toMatchObject({
      code: 1,
      stderr: `Refusing to back up: DATA_DIR ${typo} holds no Context Vault database. Point DATA_DIR (and DATABASE_URL) at the install to back up; a relative DATA_DIR is read from the working directory.\n`,
    });
    expect(existsSync(typo)).toBe(false);
    expect(await readdir(dir)).toEqual([old]);
  });

  it('refuses an embedded database with no accounts (exit 1) and deletes no backup', { timeout: 60_000 }, async () => {
    const { dir, old } = await targetWithOneBackup();
    const dataDir = await mkdtemp(path.join(work, 'empty-install-'));
    await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
    const sut = await run('cli/backup', ['--to', dir, '--recipient', recipient, '--keep', '1'], {
      DATA_DIR: dataDir,
      SERVER_KEY: randomBytes(32).toString('base64'),
    });
    expect(sut).toMatchObject({ code: 1, stderr: `Refusing to back up: DATA_DIR ${dataDir} has no accounts, so there is nothing to keep.\n` });
    expect(await readdir(dir)).toEqual([old]);
  });

  if (dbTargets().includes('postgres'))
    it('refuses a new, empty PostgreSQL database (exit 1) and deletes no backup', { timeout: 60_000 }, async () => {
      const { dir, old } = await targetWithOneBackup();
      const db = await createPgDatabase();
      cleanups.push(db.dispose);
      const dataDir = path.join(work, 'pg-typo');
      const sut = await run('cli/backup', ['--to', dir, '--recipient', recipient, '--keep', '1'], {
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        SERVER_KEY: randomBytes(32).toString('base64'),
      });
      expect(sut).toMatchObject({
        code: 1,
        stderr: 'Refusing to back up: the database at DATABASE_URL holds no Context Vault tables (never started a server?).\n',
      });
      expect(await readdir(dir)).toEqual([old]);
      expect(existsSync(path.join(dataDir, 'server.key'))).toBe(false);
    });

  describe('with an install', () => {
    let install: TestServer;
    beforeAll(async () => {
      install = await startTestServer('pglite');
      await signUp(install.app);
      await install.stop();
    });
    afterAll(async () => install?.dispose());

    it('refuses an s3:// target with an invalid bucket name (exit 2) instead of writing a directory "s3:"', async () => {
      const created = existsSync(path.join(ROOT, 's3:'));
      const sut = await run('cli/backup', ['--to', 's3://CV_Backups/x', '--recipient', recipient], install.env);
      if (!created) await rm(path.join(ROOT, 's3:'), { recursive: true, force: true });
      expect(sut).toMatchObject({ code: 2, stderr: `BACKUP_TARGET: not a valid S3 bucket name (3 to 63 lower-case letters, digits, "." and "-")\n${USAGE}\n` });
      expect(sut.stdout).toBe('');
    });

    it('answers bad arguments and an unusable directory with one line and the usage, no stack', async () => {
      const [every, unknown, notDir] = await Promise.all([
        run('cli/backup', ['--every', '-1'], install.env),
        run('cli/backup', ['--evry', '3'], install.env),
        run('cli/backup', ['--to', '/etc/passwd/bk', '--recipient', recipient], install.env),
      ]);
      expect(every).toMatchObject({ code: 2, stderr: `Option '--every' argument is ambiguous.\n${USAGE}\n` });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.split('\n')).toEqual([expect.stringMatching(/^Unknown option '--evry'/), USAGE, '']);
      expect(notDir).toMatchObject({ code: 1, stderr: `BACKUP_TARGET: cannot create or write the directory /etc/passwd/bk (ENOTDIR)\n${USAGE}\n` });
    });

    it('on a schedule, stays running between backups until stopped', { timeout: 120_000 }, async () => {
      const dir = path.join(work, 'scheduled');
      await mkdir(dir);
      // 0.0003 h is about a second: long enough to give each backup its own name (they are per second).
      const sut = await scheduled(['--to', dir, '--recipient', recipient, '--every', '0.0003', '--keep', '5'], install.env, 2);
      expect(sut.exitedByItself, sut.stderr).toBe(false);
      expect(sut.code).toBe(0);
      expect((await readdir(dir)).length).toBeGreaterThanOrEqual(2);
    });
  });
});
