import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteTemplate, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { ServerProcess } from '../../test-support/server/server-process.js';
import { runServerEntry as run } from '../../test-support/server/cli.js';

const execp = promisify(execFile);

const CODE = /^CVI-(?:[0-9A-Z]{5}-){3}[0-9A-Z]{5}\n$/;

// PGlite is one process's: a CLI or a second server on a running server's DATA_DIR is refused
// (a code written behind the server's back was never seen, and lost at its next checkpoint).
describe('the embedded database directory is held by one process (pglite)', () => {
  let sut: TestServer;
  let work: string;
  let recipient: string;
  let keyFile: string;
  beforeAll(async () => {
    sut = await startTestServer('pglite', { SIGNUP: 'invite' });
    work = await mkdtemp(path.join(tmpdir(), 'cv-lock-cli-'));
    keyFile = path.join(work, 'key.txt');
    await execp('age-keygen', ['-o', keyFile]);
    recipient = (await execp('age-keygen', ['-y', keyFile])).stdout.trim();
  });
  afterAll(async () => {
    await sut?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses every CLI and a second server while the server runs, and works once it stops', { timeout: 180_000 }, async () => {
    const held = `The server is running on this data directory (${sut.dataDir}, pid ${process.pid}): stop it first`;
    expect(readFileSync(path.join(sut.dataDir, 'pg.lock'), 'utf8').split('\n')[0]).toBe(String(process.pid));

    const [invite, exp, backup, restore, second] = await Promise.all([
      run('cli/invite', ['--days', '3'], sut.env),
      run('cli/export', ['--email', 'a@example.com', '--out', path.join(work, 'x.age')], sut.env, 'a passphrase\n\nexport-pass-1\nexport-pass-1\n'),
      run('cli/backup', ['--to', path.join(work, 'backups'), '--recipient', recipient], sut.env),
      run('cli/restore', ['--identity', keyFile, path.join(work, 'none.tar.age')], sut.env),
      run('main', [], { ...sut.env, PORT: '0' }),
    ]);
    expect(invite).toEqual({
      code: 1,
      stdout: '',
      stderr: `${held}, or create the invite while it runs: sign in as an admin account and use Settings → Invites (POST /api/invites).\n`,
    });
    // Refused before asking for the passphrase.
    expect(exp).toEqual({ code: 1, stdout: '', stderr: `${held}, or export from the running app: Settings → Export your vault (POST /api/export).\n` });
    expect(existsSync(path.join(work, 'x.age'))).toBe(false);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain(`Backup failed: ${held}: the embedded database allows one process`);
    expect(existsSync(path.join(work, 'backups')) ? await readdir(path.join(work, 'backups')) : []).toEqual([]);
    expect(restore).toMatchObject({ code: 1, stderr: expect.stringContaining(`${held}: a backup is restored into an install that is not running.`) });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Context Vault failed to start: ${held}`);
    // The server's hold is still there, and the server still works.
    expect(readFileSync(path.join(sut.dataDir, 'pg.lock'), 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/signup' })).json()).toEqual({ signup: 'invite' });

    // Stopped, the server gives its hold back: the CLI works, and the restarted server takes its code.
    await sut.stop();
    expect(existsSync(path.join(sut.dataDir, 'pg.lock'))).toBe(false);
    const ok = await run('cli/invite', [], sut.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(CODE);
    expect(existsSync(path.join(sut.dataDir, 'pg.lock'))).toBe(false);
    await sut.restart();
    const reg = await sut.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'invited@example.com', passphrase: 'a long enough passphrase', inviteCode: ok.stdout.trim() },
    });
    expect(reg.statusCode, reg.body).toBe(201);

    // A lock left by a process that is gone is taken over.
    await sut.stop();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(path.join(sut.dataDir, 'pg.lock'), `${gone.pid}\nserver\n2026-01-01T00:00:00.000Z\n`);
    const stale = await run('cli/invite', [], sut.env);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(CODE);
    expect(existsSync(path.join(sut.dataDir, 'pg.lock'))).toBe(false);
    await sut.restart();
  });

  it('a server killed with kill -9 leaves its lock, and the next start takes it over', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-lock-crash-'));
    await mkdir(dataDir, { recursive: true });
    await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
    const env = { DATA_DIR: dataDir, SIGNUP: 'invite' };
    const first = new ServerProcess('first', env);
    const next = new ServerProcess('next', env);
    try {
      await first.start();
      const lockFile = path.join(dataDir, 'pg.lock');
      expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(first.child!.pid));
      const refused = await run('cli/invite', [], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`The server is running on this data directory (${dataDir}, pid ${first.child!.pid})`);
      await first.kill('SIGKILL');
      expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(first.child!.pid));

      await next.start();
      expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(next.child!.pid));
      expect((await next.call('GET', '/api/auth/signup')).body).toEqual({ signup: 'invite' });
      await next.kill('SIGTERM');
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      await first.kill('SIGKILL');
      await next.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
