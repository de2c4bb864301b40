import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
// The module itself, not the crypto/ barrel: the Apple Health import worker loads this file, and
// the barrel would load argon2, age and HPKE into every worker for nothing.
import {
  createDecryptStream,
  createEncryptStream,
  createSegmentOpener,
  SEGMENT_SIZE,
  segmentRange,
  streamLayout,
  STREAM_HEADER_BYTES,
} from '../../crypto/stream.js';
import { LocalObjectStore, openStore } from '../storage/index.js';
import type { ObjectStore, StorageSpec } from '../storage/object-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The key and AAD a job's input file is encrypted under. */
export interface FileSeal {
  key: Buffer;
  aad: string;
}

/**
 * Uploaded import files, kept only as STREAM ciphertext as objects `<user>/<job>` in the
 * configured store (the disk under `DATA_DIR/imports`, or the bucket's `imports/` prefix) while
 * their job needs them. The key comes from the user's vault key, so a file left by a crash can be
 * read again only once that user is signed in, and by nobody else.
 */
export class ImportFiles {
  /** `spec` opens the same store from a worker thread (see `ImportFiles.open`). */
  constructor(
    private readonly objects: ObjectStore,
    readonly spec: StorageSpec,
  ) {}

  /** Import files on the local disk under `root` (tools and tests). */
  static onDisk(root: string): ImportFiles {
    return new ImportFiles(new LocalObjectStore(root), { kind: 'local', root });
  }

  static async open(spec: StorageSpec): Promise<ImportFiles> {
    return new ImportFiles(await openStore(spec), spec);
  }

  keyOf(userId: string, jobId: string): string {
    if (!UUID.test(userId) || !UUID.test(jobId)) throw new Error('invalid id');
    return `${userId}/${jobId}`;
  }

  /** Streams `source` through `meter` (size and type checks) and encryption to the store. */
  async write(userId: string, jobId: string, seal: FileSeal, source: Readable, meter: Transform): Promise<number> {
    const key = this.keyOf(userId, jobId);
    const sink = this.objects.createWriteStream(key);
    try {
      await pipeline(source, meter, createEncryptStream(seal.key, seal.aad), sink);
    } catch (err) {
      // pipeline() rejects at the first error, before the sink has removed its partial upload.
      if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
      await this.objects.delete(key).catch(() => {});
      throw err;
    }
    return (await this.objects.size(key)) ?? 0;
  }

  async exists(userId: string, jobId: string): Promise<boolean> {
    return (await this.objects.size(this.keyOf(userId, jobId))) !== null;
  }

  /** The plaintext as a stream; a modified or truncated file errors the stream. */
  openStream(userId: string, jobId: string, seal: FileSeal): Readable {
    const dec = createDecryptStream(seal.key, seal.aad);
    // pipeline (not pipe) so that a read error reaches the consumer.
    void pipeline(this.objects.createReadStream(this.keyOf(userId, jobId)), dec).catch((e: Error) => dec.destroy(e));
    return dec;
  }

  async plainSize(userId: string, jobId: string): Promise<number> {
    const size = await this.objects.size(this.keyOf(userId, jobId));
    if (size === null) throw Object.assign(new Error('import file missing'), { code: 'ENOENT' });
    return streamLayout(size).plainSize;
  }

  /** A yauzl reader that decrypts only the segments a read touches (ranged reads in S3). */
  async openRandomAccess(userId: string, jobId: string, seal: FileSeal): Promise<{ reader: yauzl.RandomAccessReader; size: number }> {
    const key = this.keyOf(userId, jobId);
    const encSize = await this.objects.size(key);
    if (encSize === null) throw Object.assign(new Error('import file missing'), { code: 'ENOENT' });
    const layout = streamLayout(encSize);
    const header = await this.objects.readRange(key, 0, STREAM_HEADER_BYTES);
    const read = (offset: number, length: number) => this.objects.readRange(key, offset, offset + length);
    const reader = new EncryptedRandomAccessReader(read, encSize, layout.segments, createSegmentOpener(seal.key, seal.aad, header));
    return { reader, size: layout.plainSize };
  }

  async remove(userId: string, jobId: string): Promise<void> {
    await this.objects.delete(this.keyOf(userId, jobId));
  }

  async removeUser(userId: string): Promise<void> {
    if (!UUID.test(userId)) throw new Error('invalid id');
    await this.objects.deletePrefix(`${userId}/`);
  }

  /**
   * Deletes every file whose job is not in `keep` (leftovers of uploads cut off by a crash). A
   * store may be shared by several instances, and another one may have just stored an upload
   * whose job row it is about to insert: there (a bucket, or `graceMs` from the runner when the
   * database is shared), only files older than the grace period go.
   */
  async sweep(keep: Set<string>, graceMs = 0): Promise<void> {
    const grace = Math.max(graceMs, this.spec.kind === 's3' ? 3_600_000 : 0);
    const before = grace > 0 ? Date.now() - grace : Infinity;
    for await (const o of this.objects.list('')) {
      const job = o.key.split('/').pop()!;
      if (!keep.has(job) && o.modified.getTime() < before) await this.objects.delete(o.key);
    }
  }

  async close(): Promise<void> {
    await this.objects.close();
  }
}

/**
 * yauzl reads a zip's central directory from the end and then each entry's range, so it needs
 * random access. STREAM segments decrypt independently given their index and last flag (the file
 * size says which is last), so a read decrypts only the 64 KiB segments it covers; a couple are
 * cached because yauzl reads headers and data in small neighbouring pieces. A long range (an
 * entry's data) is fetched up to READ_AHEAD segments per read: one ranged GET per MiB in S3
 * instead of one per segment.
 */
const READ_AHEAD = 16;

class EncryptedRandomAccessReader extends yauzl.RandomAccessReader {
  readonly #cache = new Map<number, Buffer>();

  constructor(
    private readonly fetch: (offset: number, length: number) => Promise<Buffer>,
    private readonly encSize: number,
    private readonly segments: number,
    private readonly openSegment: (index: number, last: boolean, sealed: Uint8Array) => Buffer,
  ) {
    super();
  }

  /** Segment `index`, fetching with it those after it up to `lastWanted` (at most READ_AHEAD). */
  async #segment(index: number, lastWanted: number): Promise<Buffer> {
    const hit = this.#cache.get(index);
    if (hit) return hit;
    const upTo = Math.min(lastWanted, index + READ_AHEAD - 1, this.segments - 1);
    const first = segmentRange(this.encSize, index);
    const last = segmentRange(this.encSize, upTo);
    const sealed = await this.fetch(first.offset, last.offset + last.length - first.offset);
    let plain!: Buffer;
    for (let i = index; i <= upTo; i++) {
      const r = segmentRange(this.encSize, i);
      const seg = this.openSegment(i, i === this.segments - 1, sealed.subarray(r.offset - first.offset, r.offset - first.offset + r.length));
      if (i === index) plain = seg;
      while (this.#cache.size >= READ_AHEAD + 4) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(i, seg);
    }
    return plain;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const self = this;
    async function* range() {
      let pos = start;
      while (pos < end) {
        const index = Math.floor(pos / SEGMENT_SIZE);
        const seg = await self.#segment(index, Math.floor((end - 1) / SEGMENT_SIZE));
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
    callback(null);
  }
}
