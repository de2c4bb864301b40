import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

// DATA_DIR's disk fills up during an upload. Mounting a small tmpfs needs root, so the store's
// file streams (temporary `.upload-*` names: uploads and the readiness probe) are Node's own,
// whose writes, once armed, go to /dev/full: the kernel's ENOSPC, after `open`, as a full disk
// reports it. Everything else (the server, its database, the HTTP request) is real.
const disk = vi.hoisted(() => ({ fullAfterBytes: Infinity, written: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const { fullDiskFs } = await import('../../test-support/server/full-disk.js');
  return fullDiskFs(await importOriginal<typeof import('node:fs')>(), disk);
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

for (const target of dbTargets()) {
  describe(`an upload when DATA_DIR's disk is full (${target})`, () => {
    let server: TestServer;
    let base: string;
    let user: Awaited<ReturnType<typeof signUp>>;
    const data = randomBytes(5 * 1024 * 1024);
    const upload = () => {
      const mp = multipart({ name: 'big.bin', type: 'application/octet-stream', data }, {}, user.headers);
      return fetch(`${base}/api/files`, { method: 'POST', headers: mp.headers, body: mp.payload });
    };

    beforeAll(async () => {
      server = await startTestServer(target);
      user = await signUp(server.app);
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    });
    afterEach(() => {
      disk.fullAfterBytes = Infinity;
      disk.written = 0;
    });
    afterAll(async () => {
      await server?.dispose();
    });

    it('answers 507 storage_full, keeps nothing of it, and /health/storage says the disk cannot be written', async () => {
      disk.fullAfterBytes = 1024 * 1024;
      const res = await upload();
      expect(res.status).toBe(507);
      expect(await res.json()).toEqual({ error: { code: 'storage_full', message: expect.stringMatching(/storage is full/) } });
      expect(await filesUnder(path.join(server.dataDir, 'files'))).toEqual([]);
      const items = await server.app.inject({ method: 'GET', url: '/api/items', headers: user.headers });
      expect(items.json()).toMatchObject({ items: [] });

      disk.written = disk.fullAfterBytes;
      const health = await fetch(`${base}/health/storage`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'unavailable' });
    });

    it('once there is room again the same upload is stored and the probe answers ok', async () => {
      expect((await fetch(`${base}/health/storage`)).status).toBe(200);
      const res = await upload();
      expect(res.status).toBe(201);
      expect(await filesUnder(path.join(server.dataDir, 'files'))).toHaveLength(1);
    });
  });
}
