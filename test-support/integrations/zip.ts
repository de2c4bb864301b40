/**
 * A minimal zip writer for tests and benches. No zip writer library is installed, and the `zip`
 * CLI cannot write the hostile archives importers must refuse ("../" names, absolute paths,
 * symlinks, lying sizes), hence this one. Not used by any importer.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** One entry for {@link buildZip}. */
export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** 0 stored, 8 deflate (default 8). */
  method?: 0 | 8;
  /** Unix mode written in the external attributes (0o120777 makes a symlink). */
  mode?: number;
  /** Lie about the uncompressed size in both headers. */
  declaredSize?: number;
}

/** A local header, name and body, and the matching central-directory record, for one entry at `offset`. */
function entryParts(e: ZipEntrySpec, offset: number): { local: Buffer[]; central: Buffer[] } {
  const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8');
  const method = e.method ?? 8;
  const body = method === 8 ? deflateRawSync(data) : data;
  const crc = crc32(data);
  const name = Buffer.from(e.name, 'utf8');
  const usize = e.declaredSize ?? data.length;
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0);
  lh.writeUInt16LE(20, 4);
  lh.writeUInt16LE(0x800, 6);
  lh.writeUInt16LE(method, 8);
  lh.writeUInt16LE(0, 10);
  lh.writeUInt16LE(0x5821, 12);
  lh.writeUInt32LE(crc, 14);
  lh.writeUInt32LE(body.length, 18);
  lh.writeUInt32LE(usize, 22);
  lh.writeUInt16LE(name.length, 26);
  lh.writeUInt16LE(0, 28);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE((3 << 8) | 20, 4);
  ch.writeUInt16LE(20, 6);
  ch.writeUInt16LE(0x800, 8);
  ch.writeUInt16LE(method, 10);
  ch.writeUInt16LE(0, 12);
  ch.writeUInt16LE(0x5821, 14);
  ch.writeUInt32LE(crc, 16);
  ch.writeUInt32LE(body.length, 20);
  ch.writeUInt32LE(usize, 24);
  ch.writeUInt16LE(name.length, 28);
  ch.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
  ch.writeUInt32LE(offset, 42);
  return { local: [lh, name, body], central: [ch, name] };
}

function endRecord(entries: number, cdBytes: number, cdOffset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(cdBytes, 12);
  end.writeUInt32LE(cdOffset, 16);
  return end;
}

/** Builds a zip archive in memory. */
export function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const { local, central } = entryParts(e, offset);
    locals.push(...local);
    centrals.push(...central);
    for (const b of local) offset += b.length;
  }
  const cd = Buffer.concat(centrals);
  return Buffer.concat([...locals, cd, endRecord(entries.length, cd.length, offset)]);
}

/**
 * Writes a zip to a stream one entry at a time (benches: archives of gigabytes). Only the
 * central directory (~100 bytes an entry) is held. No zip64: under 4 GiB and 65,535 entries.
 */
export class ZipStreamWriter {
  readonly #centrals: Buffer[] = [];
  #offset = 0;
  #count = 0;

  constructor(private readonly out: NodeJS.WritableStream) {}

  /** Bytes written so far. */
  get bytes(): number {
    return this.#offset;
  }

  async add(e: ZipEntrySpec): Promise<void> {
    const { local, central } = entryParts(e, this.#offset);
    for (const b of local) {
      this.#offset += b.length;
      await this.#write(b);
    }
    this.#centrals.push(...central);
    this.#count++;
    if (this.#offset >= 2 ** 32 || this.#count >= 0xffff) throw new Error('ZipStreamWriter: zip64 would be needed');
  }

  async end(): Promise<number> {
    const cd = Buffer.concat(this.#centrals);
    await this.#write(cd);
    await this.#write(endRecord(this.#count, cd.length, this.#offset));
    return this.#offset + cd.length + 22;
  }

  #write(b: Buffer): Promise<void> {
    if (this.out.write(b)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off('drain', done);
        this.out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
    });
  }
}
