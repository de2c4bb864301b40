import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

/**
 * A person who closes the tab during an export download: the reply is cut mid-stream, over a
 * real socket (inject cannot cut one). The server must go on serving, and the export's encrypted
 * spool files must go.
 */
describe.each(dbTargets())('export cut short by the client (%s)', (target) => {
  let sut: TestServer;
  let base: string;

  beforeAll(async () => {
    sut = await startTestServer(target);
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sut.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => sut?.dispose());

  it('keeps the server up and leaves no spool file, cut at the first bytes or in the middle', async () => {
    const user = await signUp(sut.app);
    // Several files of incompressible bytes, so the archive is many socket buffers long.
    for (let i = 0; i < 6; i++) {
      const up = await sut.app.inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name: `scan-${i}.bin`, type: 'application/octet-stream', data: randomBytes(1_5_000_000) }, {}, user.headers),
      });
      expect(up.statusCode).toBe(201);
    }
    for (const cutAfter of [1, 2_000_000]) {
      const received = await new Promise<number>((resolve, reject) => {
        let got = 0;
        const req = request(`${base}/api/export`, { method: 'POST', headers: { ...user.headers, origin: base, 'content-type': 'application/json' } }, (res) => {
          expect(res.statusCode).toBe(200);
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (got >= cutAfter) req.destroy();
          });
        });
        req.on('error', () => {});
        req.on('close', () => resolve(got));
        req.on('error', reject);
        req.end(JSON.stringify({ passphrase: 'a long export passphrase' }));
      });
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(9_000_000);
      // The server noticed, stopped the export and still answers.
      await new Promise((r) => setTimeout(r, 500));
      expect((await fetch(`${base}/health`)).status).toBe(200);
    }
    const me = await fetch(`${base}/api/auth/me`, { headers: user.headers });
    expect(me.status).toBe(200);
    const spoolDir = path.join(sut.dataDir, 'tmp');
    await expect.poll(async () => (await readdir(spoolDir).catch(() => [])).filter((f) => f.startsWith('.export-spool')), { timeout: 5000 }).toEqual([]);
  });

  it('keeps the server up when a file fails mid-export (a tampered object): the download ends short, the log says why', async () => {
    const user = await signUp(sut.app);
    const up = await sut.app.inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'tampered.bin', type: 'application/octet-stream', data: randomBytes(6_000_000) }, {}, user.headers),
    });
    expect(up.statusCode).toBe(201);
    // Flip one byte well inside the encrypted object: its segment fails authentication while
    // its tar entry is being written.
    const handle = await open(path.join(sut.dataDir, 'files', user.user.id, (up.json() as { fileId: string }).fileId), 'r+');
    try {
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, 5_000_000);
      byte[0] = byte[0]! ^ 0xff;
      await handle.write(byte, 0, 1, 5_000_000);
    } finally {
      await handle.close();
    }
    const res = await fetch(`${base}/api/export`, {
      method: 'POST',
      headers: { ...user.headers, origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ passphrase: 'a long export passphrase' }),
    });
    expect(res.status).toBe(200);
    // The body ends with an error (the connection is cut), never as a complete-looking file.
    await expect(res.arrayBuffer()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(sut.logs()).toContain('export failed mid-stream');
  });
});
