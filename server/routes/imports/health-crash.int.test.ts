import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIASTOLIC, ENERGY, HR, STEPS, SYSTOLIC, writeAppleHealthExport, type ExportSummary } from '../../../bench/generators/apple-health.js';
import { createPgDatabase, dbTargets, multipart, pgliteTemplate } from '../../../test-support/server/harness.js';

// `kill -9` in the middle of an Apple Health import, then a restart and a re-import of the same
// file: every sample must be stored exactly once. The server runs in its own process (the real
// entry, the same Node flags as `npm start`) so the kill is a real one: no shutdown hook runs, the
// database sees the connection drop mid-transaction, the worker dies with the process.

interface Job {
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: { done: number; total?: number };
  error?: string;
}

class ServerProcess {
  child!: ChildProcess;
  url = '';
  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, ['--max-semi-space-size=2', '--import', 'tsx', 'bench/support/bench-server.ts'], {
      env: { ...process.env, LOG_LEVEL: 'warn', RATE_LIMIT_AUTH_PER_MIN: '100000', SANDBOX_RUNTIME: 'none', PORT: '0', ...this.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      this.child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        const m = /LISTENING (\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      this.child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    this.url = `http://127.0.0.1:${port}`;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }

  async json<T>(method: string, url: string, cookie?: string, body?: unknown): Promise<{ status: number; body: T; cookie?: string }> {
    const res = await fetch(this.url + url, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('cv_session='));
    return { status: res.status, body: (await res.json()) as T, cookie: set?.split(';')[0] };
  }

  async upload(cookie: string, file: string): Promise<string> {
    const mp = multipart({ name: 'export.xml', type: 'text/xml', data: readFileSync(file) }, {}, { cookie });
    const res = await fetch(`${this.url}/api/import/apple-health`, { method: 'POST', headers: mp.headers, body: mp.payload });
    expect(res.status).toBe(202);
    return ((await res.json()) as { jobId: string }).jobId;
  }

  async waitJob(cookie: string, id: string, until: (j: Job) => boolean, ms = 240_000): Promise<Job> {
    const end = Date.now() + ms;
    for (;;) {
      const { body } = await this.json<Job>('GET', `/api/jobs/${id}`, cookie);
      if (until(body)) return body;
      if (Date.now() > end) throw new Error(`job ${id} still ${body.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
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
      const env: Record<string, string> = { DATA_DIR: dataDir };
      if (target === 'pglite') await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
      else {
        const db = await createPgDatabase();
        dropDb = db.dispose;
        env.DATABASE_URL = db.url;
      }
      server = new ServerProcess(env);
      await server.start();
      const email = `crash-${randomBytes(4).toString('hex')}@example.com`;
      const passphrase = 'correct horse battery staple';
      const reg = await server.json<unknown>('POST', '/api/auth/register', undefined, { email, passphrase });
      expect(reg.status).toBe(201);
      let cookie = reg.cookie!;

      const first = await server.upload(cookie, gen.path);
      const mid = await server.waitJob(cookie, first, (j) => ended(j) || (j.progress.total !== undefined && j.progress.done >= j.progress.total * 0.4));
      expect(mid.status, 'the import must still be running when it is killed').toBe('running');
      console.log(`killed at ${Math.round((100 * mid.progress.done) / mid.progress.total!)} % (${target})`);
      await server.kill('SIGKILL');

      await server.start();
      const login = await server.json<unknown>('POST', '/api/auth/login', undefined, { email, passphrase });
      expect(login.status).toBe(200);
      cookie = login.cookie!;
      // The interrupted job resumes on its owner's first signed-in request and runs to the end.
      const resumed = await server.waitJob(cookie, first, ended);
      expect(resumed.status, resumed.error).toBe('done');

      const again = await server.waitJob(cookie, await server.upload(cookie, gen.path), ended);
      expect(again.status, again.error).toBe('done');

      for (const type of [HR, STEPS, ENERGY, SYSTOLIC, DIASTOLIC]) {
        const q = new URLSearchParams({ type, from: gen.from, to: gen.to });
        const { body } = await server.json<{ days: Array<{ date: string; count: number; sum: number }> }>('GET', `/api/records/series?${q}`, cookie);
        const want = gen.expectedDays(type);
        expect(
          body.days.map((d) => [d.date, d.count]),
          type,
        ).toEqual(want.map((d) => [d.date, d.count]));
        body.days.forEach((d, i) => expect(d.sum).toBeCloseTo(want[i]!.sum, 6));
      }
      await server.kill('SIGTERM');
    }, 300_000);
  });
}
