import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RandomAccessReader } from 'yauzl';
import { SEGMENT_SIZE } from '../../crypto/index.js';
import { ImportFiles } from './encrypted-file.js';

// yauzl holds a reference while a zip is open and closes the reader at the last unref.
const hold = (reader: RandomAccessReader) => (reader as unknown as { ref(): void }).ref();

const read = (reader: RandomAccessReader, start: number, end: number) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    reader
      .createReadStream({ start, end })
      .on('data', (c: Buffer) => parts.push(c))
      .on('error', reject)
      .on('end', () => resolve(Buffer.concat(parts)));
  });

describe('ImportFiles', () => {
  let root: string;
  let sut: ImportFiles;
  const user = randomUUID();
  const seal = { key: randomBytes(32), aad: 'v1|test|jobs|x|1' };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'cv-imports-'));
    sut = ImportFiles.onDisk(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const store = async (plain: Buffer) => {
    const job = randomUUID();
    await sut.write(user, job, seal, Readable.from([plain]), new PassThrough());
    return job;
  };

  for (const size of [0, 1, SEGMENT_SIZE, SEGMENT_SIZE * 3, SEGMENT_SIZE * 3 + 12345]) {
    it(`stores ${size} bytes only encrypted and reads any range back (${size})`, async () => {
      const plain = randomBytes(size);
      const job = await store(plain);
      const disk = await readFile(path.join(root, user, job));
      if (size >= 64) expect(disk.includes(plain.subarray(0, 64))).toBe(false);
      expect(await sut.plainSize(user, job)).toBe(size);
      const streamed: Buffer[] = [];
      for await (const c of sut.openStream(user, job, seal)) streamed.push(c as Buffer);
      expect(Buffer.concat(streamed).equals(plain)).toBe(true);
      const { reader, size: n } = await sut.openRandomAccess(user, job, seal);
      hold(reader);
      expect(n).toBe(size);
      for (const [a, b] of [
        [0, size],
        [Math.floor(size / 3), Math.floor(size / 2)],
        [Math.max(0, size - 22), size],
        [SEGMENT_SIZE - 5, SEGMENT_SIZE + 5],
      ] as const) {
        if (b <= a || b > size) continue;
        expect((await read(reader, a, b)).equals(plain.subarray(a, b))).toBe(true);
      }
      reader.close(() => {});
    });
  }

  it('refuses a modified segment and a truncated file', async () => {
    const plain = randomBytes(SEGMENT_SIZE * 2 + 100);
    const job = await store(plain);
    const fh = await open(path.join(root, user, job), 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 17 + SEGMENT_SIZE + 16 + 10);
    await fh.close();
    const { reader } = await sut.openRandomAccess(user, job, seal);
    hold(reader);
    expect((await read(reader, 0, 100)).equals(plain.subarray(0, 100))).toBe(true);
    await expect(read(reader, SEGMENT_SIZE + 5, SEGMENT_SIZE + 50)).rejects.toThrow(/segment/);
    reader.close(() => {});

    const job2 = await store(plain);
    // Cut exactly at a segment boundary: the new "last" segment was sealed as not-last.
    await truncate(path.join(root, user, job2), 17 + (SEGMENT_SIZE + 16) * 2);
    const r2 = await sut.openRandomAccess(user, job2, seal);
    hold(r2.reader);
    await expect(read(r2.reader, SEGMENT_SIZE + 1, SEGMENT_SIZE + 2)).rejects.toThrow(/final segment/);
    r2.reader.close(() => {});
  });
});
