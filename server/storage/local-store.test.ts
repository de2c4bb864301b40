import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalObjectStore } from './local-store.js';

// A disk that fills up mid-write. Mounting a small tmpfs needs root, so the store's temporary
// files get Node's own file stream whose writes, once armed, go to /dev/full: the kernel's own
// ENOSPC, reported the way a full disk reports it (after `open`, on a later write).
const disk = vi.hoisted(() => ({ fullAfterBytes: Infinity, written: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const { fullDiskFs } = await import('../../test-support/server/full-disk.js');
  return fullDiskFs(await importOriginal<typeof import('node:fs')>(), disk);
});

const chunks = (count: number, size = 256 * 1024) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield randomBytes(size);
    })(),
  );

describe('LocalObjectStore writes, on a disk that fills up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-disk-full-'));
  });
  afterEach(() => {
    disk.fullAfterBytes = Infinity;
    disk.written = 0;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a write failing after open (ENOSPC) fails the stream and leaves no temporary file or object', async () => {
    disk.fullAfterBytes = 1;
    const sut = new LocalObjectStore(dir);
    await expect(pipeline(chunks(16), sut.createWriteStream('u/full'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readdir(path.join(dir, 'u'))).toEqual([]);
    expect(await sut.size('u/full')).toBeNull();
  });

  it('the readiness check writes, so a full disk fails it (a permission check would pass)', async () => {
    const sut = new LocalObjectStore(dir);
    await expect(sut.check()).resolves.toBeUndefined();
    disk.fullAfterBytes = 0;
    await expect(sut.check()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect((await readdir(dir)).filter((n) => n.startsWith('.upload-'))).toEqual([]);
  });

  it('a write in progress is not listed as an object', async () => {
    const sut = new LocalObjectStore(dir);
    const writing = sut.createWriteStream('w/big');
    await new Promise<void>((resolve, reject) => writing.write(randomBytes(1000), (err) => (err ? reject(err) : resolve())));
    const listed: string[] = [];
    for await (const o of sut.list('w/')) listed.push(o.key);
    expect(await readdir(path.join(dir, 'w'))).toHaveLength(1);
    expect(listed).toEqual([]);
    writing.destroy();
    await once(writing, 'close');
  });

  it('the same store writes again once there is room', async () => {
    const sut = new LocalObjectStore(dir);
    await pipeline(chunks(4), sut.createWriteStream('v/later'));
    expect(await sut.size('v/later')).toBe(4 * 256 * 1024);
    expect(await readdir(path.join(dir, 'v'))).toEqual(['later']);
  });
});
