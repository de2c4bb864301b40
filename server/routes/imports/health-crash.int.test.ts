import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAppleHealthExport, type ExportSummary } from '../../../bench/generators/apple-health.js';
import { createPgDatabase, dbTargets, pgliteTemplate } from '../../../test-support/server/harness.js';
import { ServerProcess } from '../../../test-support/server/server-process.js';
import { expectSeriesAsGenerated } from '../../../test-support/server/series-check.js';

// `kill -9` in the middle of an Apple Health import, then a restart and a re-import of the same
// file: every sample must be stored exactly once. The server runs in its own process (the real
// entry, the same Node flags as `npm start`) so the kill is a real one: no shutdown hook runs, the
// database sees the connection drop mid-transaction, the worker dies with the process.

interface Job {
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: { done: number; total?: number };
  error?: string;
}

const ended = (j: Job) => j.status === 'done' || j.status === 'failed';

for (const target of dbTargets()) {
  describe(`kill -9 during an Apple Health import (${target})`, () => {
    let dir: string;
    let gen: ExportSummary;
    let dropDb: (() => Promise<void>) | undefined;
    let server: ServerProcess | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'cv-crash-'));
      // Interleaved types, the order that used to exhaust the worker on a re-import.
      gen = await writeAppleHealthExport(path.join(dir, 'export.xml'), { order: 'interleaved', days: 12 });
    });
    afterAll(async () => {
      await server?.kill('SIGKILL');
      await dropDb?.();
      await rm(dir, { recursive: true, force: true });
    });

    it('kill -9 at about half way, restart, re-import: every sample exactly once', async () => {
      const dataDir = path.join(dir, 'data');
      await mkdir(dataDir);
      const env: Record<string, string> = { DATA_DIR: dataDir, RATE_LIMIT_AUTH_PER_MIN: '100000' };
      if (target === 'pglite') await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
      else {
        const db = await createPgDatabase();
        dropDb = db.dispose;
        env.DATABASE_URL = db.url;
      }
      server = new ServerProcess('server', env, ['--max-semi-space-size=4']);
      await server.start();
      const email = `crash-${randomBytes(4).toString('hex')}@example.com`;
      const passphrase = 'correct horse battery staple';
      const reg = await server.call<unknown>('POST', '/api/auth/register', undefined, { email, passphrase });
      expect(reg.status).toBe(201);
      let cookie = reg.cookie!;

      const first = await server.upload(cookie, gen.path);
      const mid = await server.waitJob<Job>(cookie, first, (j) => ended(j) || (j.progress.total !== undefined && j.progress.done >= j.progress.total * 0.4));
      expect(mid.status, 'the import must still be running when it is killed').toBe('running');
      console.log(`killed at ${Math.round((100 * mid.progress.done) / mid.progress.total!)} % (${target})`);
      await server.kill('SIGKILL');

      await server.start();
      const login = await server.call<unknown>('POST', '/api/auth/login', undefined, { email, passphrase });
      expect(login.status).toBe(200);
      cookie = login.cookie!;
      // The interrupted job resumes on its owner's first signed-in request and runs to the end.
      const resumed = await server.waitJob<Job>(cookie, first, ended);
      expect(resumed.status, resumed.error).toBe('done');

      const again = await server.waitJob<Job>(cookie, await server.upload(cookie, gen.path), ended);
      expect(again.status, again.error).toBe('done');

      await expectSeriesAsGenerated(server, cookie, gen);
      await server.kill('SIGTERM');
    }, 300_000);
  });
}
