import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { runServerEntry } from '../../test-support/server/cli.js';

const exportCli = (args: string[], env: Record<string, string>, stdin: string) => runServerEntry('cli/export', args, env, stdin);

// Answers: the vault passphrase, Enter (no age recipient), the export passphrase twice.
const answers = (passphrase: string) => `${passphrase}\n\nexport-passphrase-1\nexport-passphrase-1\n`;

describe.each(dbTargets())('npm run export (%s)', (target) => {
  let sut: TestServer;
  let work: string;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    // One sign-in per address and minute: on PostgreSQL the limit is shared with the CLI's app.
    sut = await startTestServer(target, target === 'postgres' ? { RATE_LIMIT_AUTH_PER_MIN: '1' } : {});
    user = await signUp(sut.app);
    work = await mkdtemp(path.join(tmpdir(), 'cv-export-cli-'));
    await sut.stop();
  });
  afterAll(async () => {
    await sut?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  if (target === 'pglite') {
    it('says a wrong passphrase is one, and writes the export with the right one; no request logs in its output', { timeout: 120_000 }, async () => {
      // The server's env has LOG_LEVEL=info: the CLI's own app still keeps its request logs to itself.
      expect(sut.env.LOG_LEVEL).toBe('info');
      const out = path.join(work, 'vault.age');
      const wrong = await exportCli(['--email', user.email, '--out', out], sut.env, answers('not the passphrase'));
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.endsWith('\nEmail or passphrase is incorrect.\n'), wrong.stderr).toBe(true);
      expect(wrong.stdout).toBe('');
      const right = await exportCli(['--email', user.email, '--out', out], sut.env, answers(user.passphrase));
      expect(right.code, right.stderr).toBe(0);
      expect(right.stderr).toContain(`Wrote ${out}.`);
      expect(right.stdout + right.stderr).not.toContain('"level"');
      expect(existsSync(out)).toBe(true);
    });
  } else {
    it('says a rate limit is one (with the wait), not a wrong passphrase', { timeout: 120_000 }, async () => {
      await sut.restart();
      const used = await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
      expect(used.statusCode).toBe(200);
      await sut.stop();
      const out = path.join(work, 'limited.age');
      const limited = await exportCli(['--email', user.email, '--out', out], sut.env, answers(user.passphrase));
      expect(limited.code).toBe(1);
      expect(limited.stderr).toMatch(/\nToo many sign-in attempts: try again in \d+ seconds\.\n$/);
      expect(limited.stderr).not.toContain('incorrect');
      expect(existsSync(out)).toBe(false);
    });
  }
});
