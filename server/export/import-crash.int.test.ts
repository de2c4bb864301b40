import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, pgliteTemplate } from '../../test-support/server/harness.js';
import { ServerProcess } from '../../test-support/server/server-process.js';

// `kill -9` while an export is being restored into an account, then a restart: the job must
// resume on its owner's next signed-in request and restore everything once, as Apple Health and
// FHIR imports do. (Start-up recovery used to run before this job kind was registered, and
// failed every interrupted restore as server_restarted.) The recovery path is the same on both
// databases; PGlite, the default, is the one run here.

interface Job {
  status: 'queued' | 'running' | 'done' | 'failed';
  error?: string;
}
interface ItemList {
  items: Array<{ id: string; kind: string; title: string }>;
}

const ended = (j: Job) => j.status === 'done' || j.status === 'failed';
const PASSPHRASE = 'correct horse battery staple';
const NOTES = 40;
const FILES = 3;

describe('kill -9 during an export re-import (pglite)', () => {
  let dir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-export-crash-'));
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function signUp(s: ServerProcess, email: string): Promise<string> {
    const reg = await s.call<unknown>('POST', '/api/auth/register', undefined, { email, passphrase: PASSPHRASE });
    expect(reg.status).toBe(201);
    return reg.cookie!;
  }

  it('resumes after a restart and restores every item and file once', async () => {
    const dataDir = path.join(dir, 'data');
    await mkdir(dataDir);
    await cp(path.join(await pgliteTemplate(), 'pg'), path.join(dataDir, 'pg'), { recursive: true });
    // A short lease, so the dead process's claim has expired when the server starts again, as after
    // any restart that takes longer than the default 30 s: start-up recovery then sees the job.
    server = new ServerProcess('server', { DATA_DIR: dataDir, RATE_LIMIT_AUTH_PER_MIN: '100000', JOB_LEASE_S: '1' }, ['--max-semi-space-size=4']);
    await server.start();

    // A vault whose restore takes long enough to be cut off: notes and a few large files.
    const owner = await signUp(server, `owner-${randomBytes(4).toString('hex')}@example.com`);
    for (let i = 0; i < NOTES; i++) {
      const res = await server.call('POST', '/api/items', owner, { title: `Note ${i}`, text: `Follow-up ${i} with the clinic.`, tags: ['crash'] });
      expect(res.status).toBe(201);
    }
    const digests = new Set<string>();
    for (let i = 0; i < FILES; i++) {
      const data = randomBytes(16 * 1024 * 1024);
      digests.add(createHash('sha256').update(data).digest('hex'));
      const mp = multipart({ name: `scan-${i}.bin`, type: 'application/octet-stream', data }, {}, { cookie: owner });
      const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: mp.headers, body: mp.payload });
      expect(res.status).toBe(201);
    }
    const exported = await fetch(`${server.url}/api/export`, {
      method: 'POST',
      headers: { cookie: owner, 'content-type': 'application/json' },
      body: JSON.stringify({ passphrase: PASSPHRASE }),
    });
    expect(exported.status).toBe(200);
    const archive = Buffer.from(await exported.arrayBuffer());

    const email = `restore-${randomBytes(4).toString('hex')}@example.com`;
    let cookie = await signUp(server, email);
    const mp = multipart({ name: 'vault.age', type: 'application/octet-stream', data: archive }, { passphrase: PASSPHRASE }, { cookie });
    const started = await fetch(`${server.url}/api/import/export`, { method: 'POST', headers: mp.headers, body: mp.payload });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    const mid = await server.waitJob<Job>(cookie, jobId, (j) => j.status !== 'queued');
    expect(mid.status, 'the restore must still be running when it is killed').toBe('running');
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));

    await server.start();
    const login = await server.call<unknown>('POST', '/api/auth/login', undefined, { email, passphrase: PASSPHRASE });
    expect(login.status).toBe(200);
    cookie = login.cookie!;
    const resumed = await server.waitJob<Job>(cookie, jobId, ended);
    expect(resumed.status, resumed.error).toBe('done');

    const { body } = await server.call<ItemList>('GET', '/api/items?limit=200', cookie);
    expect(
      body.items
        .filter((i) => i.kind === 'note')
        .map((i) => i.title)
        .sort(),
    ).toEqual(Array.from({ length: NOTES }, (_, i) => `Note ${i}`).sort());
    const documents = body.items.filter((i) => i.kind === 'document');
    expect(documents).toHaveLength(FILES);
    const restored = new Set<string>();
    for (const d of documents) {
      const fileId = ((await server.call<{ fileId: string }>('GET', `/api/items/${d.id}`, cookie)).body as { fileId: string }).fileId;
      const res = await fetch(`${server.url}/api/files/${fileId}`, { headers: { cookie } });
      restored.add(
        createHash('sha256')
          .update(Buffer.from(await res.arrayBuffer()))
          .digest('hex'),
      );
    }
    expect(restored).toEqual(digests);
    await server.kill('SIGTERM');
  }, 300_000);
});
