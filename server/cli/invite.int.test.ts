import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { runServerEntry as run } from '../../test-support/server/cli.js';
import { signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const USAGE = 'Usage: npm run invite [-- --days N]   or   npm run invite -- --admin EMAIL';

describe('npm run invite: --admin and bad arguments', () => {
  let install: TestServer;
  let email: string;
  beforeAll(async () => {
    install = await startTestServer('pglite');
    ({ email } = await signUp(install.app));
    await install.stop();
  });
  afterAll(async () => install?.dispose());

  const inviteCount = async () => {
    const { db } = await openDatabase({ dataDir: install.dataDir });
    try {
      return (await sql<{ n: number }>`select count(*)::int as n from invites`.execute(db)).rows[0]!.n;
    } finally {
      await db.destroy();
    }
  };

  it('--admin makes the account an admin and creates no invite code', { timeout: 60_000 }, async () => {
    const before = await inviteCount();
    const sut = await run('cli/invite', ['--admin', email.toUpperCase()], install.env);
    expect(sut).toEqual({ code: 0, stdout: '', stderr: 'That account is now an admin: it can create invites in Settings.\n' });
    expect(await inviteCount()).toBe(before);
  });

  it('answers a bad argument with one line and the usage, no stack (exit 2)', { timeout: 60_000 }, async () => {
    const [unknown, missing] = await Promise.all([run('cli/invite', ['--dayz', '3'], install.env), run('cli/invite', ['--days'], install.env)]);
    for (const sut of [unknown, missing]) {
      expect(sut.code).toBe(2);
      expect(sut.stdout).toBe('');
      expect(sut.stderr.split('\n')).toEqual([expect.stringMatching(/^(Unknown option '--dayz'|Option '--days <value>' argument missing)/), USAGE, '']);
    }
  });
});
