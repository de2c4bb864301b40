import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3 } from '../../test-support/server/s3-server.js';
import { openStore, type ObjectStore } from './index.js';

// The same contract on the local disk and on a real S3 protocol server (s3rver, its own process).
let s3: TestS3;
let dir: string;
beforeAll(async () => {
  s3 = await startS3Server();
  dir = await mkdtemp(path.join(tmpdir(), 'cv-objects-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const readAll = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

// Chunks of a few hundred KiB, as an encrypting pipeline hands them on.
const chunked = (buf: Buffer, size = 300_000) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );

for (const kind of ['local', 's3'] as const) {
  describe(`${kind} object store`, () => {
    let store: ObjectStore;
    beforeAll(async () => {
      store = await openStore(
        kind === 'local'
          ? { kind: 'local', root: dir }
          : {
              kind: 's3',
              endpoint: s3.endpoint,
              bucket: s3.bucket,
              region: s3.region,
              accessKeyId: s3.accessKeyId,
              secretAccessKey: s3.secretAccessKey,
              forcePathStyle: true,
              prefix: 'contract/',
            },
      );
    });
    afterAll(async () => store.close());

    it('writes a large object in parts and reads it back byte-exact, whole and by range', async () => {
      // 21 MiB + a bit: three 8 MiB parts in S3 (the last one short).
      const data = randomBytes(21 * 1024 * 1024 + 12_345);
      await pipeline(chunked(data), store.createWriteStream('u1/big'));
      expect(await store.size('u1/big')).toBe(data.length);
      expect((await readAll(store.createReadStream('u1/big'))).equals(data)).toBe(true);
      for (const [a, b] of [
        [0, 17],
        [8 * 1024 * 1024 - 3, 8 * 1024 * 1024 + 5],
        [data.length - 22, data.length],
      ] as const) {
        expect((await store.readRange('u1/big', a, b)).equals(data.subarray(a, b))).toBe(true);
      }
    });

    it('leaves no object when the writer fails midway', async () => {
      const failing = Readable.from(
        (async function* () {
          // Past the first 8 MiB part, so that S3 has a multipart upload to abort.
          yield randomBytes(10 * 1024 * 1024);
          throw new Error('client went away');
        })(),
      );
      await expect(pipeline(failing, store.createWriteStream('u1/cut'))).rejects.toThrow('client went away');
      expect(await store.size('u1/cut')).toBeNull();
    });

    it('lists, deletes one object and deletes a prefix', async () => {
      for (const k of ['u2/a', 'u2/b', 'u3/c']) await pipeline(Readable.from([Buffer.from(k)]), store.createWriteStream(k));
      const keys = async (p: string) => {
        const out: string[] = [];
        for await (const o of store.list(p)) out.push(o.key);
        return out.sort();
      };
      expect(await keys('u2/')).toEqual(['u2/a', 'u2/b']);
      await store.delete('u2/a');
      await store.delete('u2/missing');
      expect(await keys('u2/')).toEqual(['u2/b']);
      await store.deletePrefix('u2/');
      expect(await keys('u2/')).toEqual([]);
      expect(await keys('u3/')).toEqual(['u3/c']);
      expect(await store.size('u2/b')).toBeNull();
    });

    it("refuses keys that are not the server's own names", () => {
      for (const bad of ['../x', 'a/../../b', '/abs', 'a//b', 'a b']) expect(() => store.createReadStream(bad)).toThrow('invalid object key');
    });

    it('a missing object errors the read stream', async () => {
      await expect(readAll(store.createReadStream('u9/none'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
}
