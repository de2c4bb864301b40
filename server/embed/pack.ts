import type { Passage } from './chunk.js';

/** An item's embedded passages as sealed in `item_vectors.ciphertext`. */
export interface ItemVectors {
  dims: number;
  chunks: Array<Passage & { scale: number; q: Int8Array }>;
}

const MAGIC = 0x7631; // "v1"
const HEAD = 8;
const CHUNK_HEAD = 16;

/** Binary, not JSON: 768 int8 values are 768 bytes instead of ~3 KB of digits. */
export function packVectors(v: ItemVectors): Buffer {
  const per = CHUNK_HEAD + v.dims;
  const buf = Buffer.alloc(HEAD + per * v.chunks.length);
  buf.writeUInt16LE(MAGIC, 0);
  buf.writeUInt16LE(v.dims, 2);
  buf.writeUInt32LE(v.chunks.length, 4);
  v.chunks.forEach((c, i) => {
    const o = HEAD + i * per;
    if (c.q.length !== v.dims) throw new RangeError('vector length differs from dims');
    buf.writeUInt16LE(c.page ?? 0, o);
    buf.writeUInt16LE(0, o + 2);
    buf.writeUInt32LE(c.start, o + 4);
    buf.writeUInt32LE(c.end, o + 8);
    buf.writeFloatLE(c.scale, o + 12);
    buf.set(new Uint8Array(c.q.buffer, c.q.byteOffset, c.q.length), o + CHUNK_HEAD);
  });
  return buf;
}

export function unpackVectors(buf: Buffer): ItemVectors {
  if (buf.length < HEAD || buf.readUInt16LE(0) !== MAGIC) throw new Error('not a vectors blob');
  const dims = buf.readUInt16LE(2);
  const n = buf.readUInt32LE(4);
  const per = CHUNK_HEAD + dims;
  if (buf.length !== HEAD + per * n) throw new Error('truncated vectors blob');
  const chunks: ItemVectors['chunks'] = [];
  for (let i = 0; i < n; i++) {
    const o = HEAD + i * per;
    const page = buf.readUInt16LE(o);
    chunks.push({
      page: page === 0 ? null : page,
      start: buf.readUInt32LE(o + 4),
      end: buf.readUInt32LE(o + 8),
      scale: buf.readFloatLE(o + 12),
      q: new Int8Array(buf.buffer.slice(buf.byteOffset + o + CHUNK_HEAD, buf.byteOffset + o + per)),
    });
  }
  return { dims, chunks };
}
