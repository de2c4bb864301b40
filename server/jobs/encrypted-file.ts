import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
// The module itself, not the crypto/ barrel: the Apple Health import worker loads this file, and
// the barrel would load argon2, age and HPKE into every worker for nothing.
import { createDecryptStream, createEncryptStream, createSegmentOpener, SEGMENT_SIZE, segmentRange, streamLayout, STREAM_HEADER_BYTES } from '../../crypto/stream.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The key and AAD a job's input file is encrypted under. */
export interface FileSeal {
  key: Buffer;
  aad: string;
}

/**
 * Uploaded import files, kept only as STREAM ciphertext under `<root>/<user>/<job>` while their
 * job needs them. The key comes from the user's vault key, so a file left by a crash can be read
 * again only once that user is signed in, and by nobody else.
 */
export class ImportFiles {
  constructor(readonly root: string) {}

  pathOf(userId: string, jobId: string): string {
    if (!UUID.test(userId) || !UUID.test(jobId)) throw new Error('invalid id');
    return path.join(this.root, userId, jobId);
  }

  /** Streams `source` through `meter` (size and type checks) and encryption to disk. */
  async write(userId: string, jobId: string, seal: FileSeal, source: Readable, meter: Transform): Promise<number> {
    const p = this.pathOf(userId, jobId);
    await mkdir(path.dirname(p), { recursive: true, mode: 0o700 });
    try {
      await pipeline(source, meter, createEncryptStream(seal.key, seal.aad), createWriteStream(p, { mode: 0o600, flags: 'wx', highWaterMark: 1 << 20 }));
    } catch (err) {
      await rm(p, { force: true });
      throw err;
    }
    return (await stat(p)).size;
  }

  async exists(userId: string, jobId: string): Promise<boolean> {
    return stat(this.pathOf(userId, jobId)).then(() => true, () => false);
  }

  /** The plaintext as a stream; a modified or truncated file errors the stream. */
  openStream(userId: string, jobId: string, seal: FileSeal): Readable {
    const dec = createDecryptStream(seal.key, seal.aad);
    // pipeline (not pipe) so that a read error reaches the consumer.
    void pipeline(createReadStream(this.pathOf(userId, jobId), { highWaterMark: 1 << 20 }), dec).catch((e: Error) => dec.destroy(e));
    return dec;
  }

  async plainSize(userId: string, jobId: string): Promise<number> {
    return streamLayout((await stat(this.pathOf(userId, jobId))).size).plainSize;
  }

  /** A yauzl reader that decrypts only the segments a read touches. */
  async openRandomAccess(userId: string, jobId: string, seal: FileSeal): Promise<{ reader: yauzl.RandomAccessReader; size: number }> {
    const fh = await open(this.pathOf(userId, jobId), 'r');
    try {
      const encSize = (await fh.stat()).size;
      const layout = streamLayout(encSize);
      const header = Buffer.alloc(STREAM_HEADER_BYTES);
      await fh.read(header, 0, STREAM_HEADER_BYTES, 0);
      const reader = new EncryptedRandomAccessReader(fh, encSize, layout.segments, createSegmentOpener(seal.key, seal.aad, header));
      return { reader, size: layout.plainSize };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async remove(userId: string, jobId: string): Promise<void> {
    await rm(this.pathOf(userId, jobId), { force: true });
    await rm(path.join(this.root, userId), { recursive: false }).catch(() => {});
  }

  /** Deletes every file whose job is not in `keep` (leftovers of uploads cut off by a crash). */
  async sweep(keep: Set<string>, graceMs = 0): Promise<void> {
    const before = Date.now() - graceMs;
    for (const u of await readdir(this.root).catch(() => [] as string[])) {
      const dir = path.join(this.root, u);
      for (const f of await readdir(dir).catch(() => [] as string[])) {
        if (keep.has(f)) continue;
        // Another instance may be receiving this upload right now (its job row comes after it).
        if (graceMs > 0 && ((await stat(path.join(dir, f)).catch(() => null))?.mtimeMs ?? 0) > before) continue;
        await rm(path.join(dir, f), { force: true, recursive: true });
      }
      await rm(dir, { recursive: false }).catch(() => {});
    }
  }
}

/**
 * yauzl reads a zip's central directory from the end and then each entry's range, so it needs
 * random access. STREAM segments decrypt independently given their index and last flag (the file
 * size says which is last), so a read decrypts only the 64 KiB segments it covers; a couple are
 * cached because yauzl reads headers and data in small neighbouring pieces.
 */
class EncryptedRandomAccessReader extends yauzl.RandomAccessReader {
  readonly #cache = new Map<number, Buffer>();

  constructor(
    private readonly fh: FileHandle,
    private readonly encSize: number,
    private readonly segments: number,
    private readonly openSegment: (index: number, last: boolean, sealed: Uint8Array) => Buffer,
  ) {
    super();
  }

  async #segment(index: number): Promise<Buffer> {
    const hit = this.#cache.get(index);
    if (hit) return hit;
    const { offset, length } = segmentRange(this.encSize, index);
    const sealed = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(sealed, got, length - got, offset + got);
      if (bytesRead === 0) throw new Error('import file shrank while being read');
      got += bytesRead;
    }
    const plain = this.openSegment(index, index === this.segments - 1, sealed);
    if (this.#cache.size >= 4) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(index, plain);
    return plain;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const self = this;
    async function* range() {
      let pos = start;
      while (pos < end) {
        const index = Math.floor(pos / SEGMENT_SIZE);
        const seg = await self.#segment(index);
        const from = pos - index * SEGMENT_SIZE;
        const to = Math.min(seg.length, end - index * SEGMENT_SIZE);
        if (to <= from) throw new Error('read past the end of the import file');
        // A copy: the cached segment must not be handed to consumers that may keep it.
        yield Buffer.from(seg.subarray(from, to));
        pos += to - from;
      }
    }
    return Readable.from(range(), { objectMode: false });
  }

  override close(callback: (err: Error | null) => void): void {
    this.#cache.clear();
    this.fh.close().then(() => callback(null), (e: Error) => callback(e));
  }
}
