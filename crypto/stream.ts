import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { GCM_IV_BYTES, GCM_TAG_BYTES } from './aes-gcm.js';
import { DecryptError } from './errors.js';
import { assertKey, hkdf } from './util.js';

/** Plaintext bytes per segment (64 KiB), as in age. */
export const SEGMENT_SIZE = 64 * 1024;
/** Stream format version (first header byte). */
export const STREAM_VERSION = 0x01;
const SALT_BYTES = 16;
/** version(1) + salt(16). */
export const STREAM_HEADER_BYTES = 1 + SALT_BYTES;
const ENC_SEGMENT = SEGMENT_SIZE + GCM_TAG_BYTES;

/**
 * Ciphertext size for a given plaintext size: header + plaintext + one tag per segment.
 * The encryptor emits ceil(n / SEGMENT_SIZE) segments, and one empty segment for n = 0
 * (exact multiples end with a full last segment, not an extra empty one).
 */
export function encryptedSize(plainSize: number): number {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError('plainSize must be a non-negative integer');
  const segments = Math.max(1, Math.ceil(plainSize / SEGMENT_SIZE));
  return STREAM_HEADER_BYTES + plainSize + segments * GCM_TAG_BYTES;
}

// Nonce = 11-byte big-endian counter || last flag. The counter lives in the low 6 bytes
// (2^48 segments = 16 EiB; far beyond any file) so a JS number is exact.
function segmentNonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(GCM_IV_BYTES);
  n.writeUIntBE(index, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

function segmentAad(aadPrefix: Buffer, index: number, last: boolean): Buffer {
  return Buffer.concat([aadPrefix, Buffer.from(`|${index}|${last ? 1 : 0}`, 'ascii')]);
}

const MAX_SEGMENTS = 2 ** 48;

/**
 * FIFO of Buffers that hands out exact byte counts as zero-copy slices, so segmenting never
 * re-concatenates the whole input (memory stays ~2 segments whatever the file size).
 */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Removes and returns exactly `n` bytes (n <= length) as one or more slices. */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0) {
      const head = this.chunks[0]!;
      if (head.length <= n) {
        out.push(head);
        this.chunks.shift();
        n -= head.length;
        this.length -= head.length;
      } else {
        out.push(head.subarray(0, n));
        this.chunks[0] = head.subarray(n);
        this.length -= n;
        n = 0;
      }
    }
    return out;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('stream chunks must be Buffers or Uint8Arrays');
}

/**
 * Encrypting Transform (STREAM construction as in age / Tink streaming AEAD).
 *
 * Output: `0x01 || salt(16)`, then segments of `AES-256-GCM(segKey, nonce(i, last), pt_i,
 * aad || "|" || i || "|" || last)`, where segKey = HKDF(fileKey, salt, "cv1|stream").
 * One full segment is held back until more input (or the end) shows whether it is the last.
 */
export function createEncryptStream(fileKey: Uint8Array, aad: string): Transform {
  assertKey(fileKey, 'file key');
  const salt = randomBytes(SALT_BYTES);
  // A fresh salt per stream gives a fresh segment key, so counter nonces never repeat even if
  // the same fileKey is reused for a re-upload.
  const segKey = hkdf(fileKey, 'cv1|stream', salt);
  const aadPrefix = Buffer.from(aad, 'utf8');
  const queue = new ByteQueue();
  let index = 0;

  const sealSegment = (t: Transform, pieces: Buffer[], last: boolean): void => {
    if (index >= MAX_SEGMENTS) throw new RangeError('stream too long');
    const cipher = createCipheriv('aes-256-gcm', segKey, segmentNonce(index, last), { authTagLength: GCM_TAG_BYTES });
    cipher.setAAD(segmentAad(aadPrefix, index, last));
    for (const p of pieces) {
      const c = cipher.update(p);
      if (c.length > 0) t.push(c);
    }
    const f = cipher.final();
    if (f.length > 0) t.push(f);
    t.push(cipher.getAuthTag());
    index++;
  };

  let headerSent = false;
  const sendHeader = (t: Transform): void => {
    if (headerSent) return;
    headerSent = true;
    t.push(Buffer.concat([Buffer.from([STREAM_VERSION]), salt]));
  };

  return new Transform({
    transform(this: Transform, chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
      try {
        sendHeader(this);
        queue.push(toBuffer(chunk));
        // Strictly greater: a segment is only known to be non-last once a byte follows it.
        while (queue.length > SEGMENT_SIZE) sealSegment(this, queue.take(SEGMENT_SIZE), false);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(this: Transform, cb: TransformCallback): void {
      try {
        sendHeader(this);
        sealSegment(this, queue.take(queue.length), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

/**
 * Decrypting Transform for {@link createEncryptStream} output. Each segment's plaintext is
 * pushed only after its tag verified. Emits {@link DecryptError} on a wrong key or aad, any
 * modified byte, truncation (no last segment), dropped/reordered/duplicated segments, or data
 * after the last segment. Consumers must treat output already received before an error as
 * belonging to an incomplete file (it is authentic, but the file is not whole).
 */
export function createDecryptStream(fileKey: Uint8Array, aad: string): Transform {
  assertKey(fileKey, 'file key');
  const aadPrefix = Buffer.from(aad, 'utf8');
  const queue = new ByteQueue();
  let segKey: Buffer | null = null;
  let index = 0;
  let failed = false;

  const openSegment = (t: Transform, sealed: Buffer[], last: boolean): void => {
    if (index >= MAX_SEGMENTS) throw new DecryptError('stream too long');
    // Split the tag off the end (it may straddle input chunks).
    const size = sealed.reduce((a, b) => a + b.length, 0);
    const ctLen = size - GCM_TAG_BYTES;
    const ct: Buffer[] = [];
    const tagParts: Buffer[] = [];
    let pos = 0;
    for (const p of sealed) {
      const end = pos + p.length;
      if (end <= ctLen) ct.push(p);
      else if (pos >= ctLen) tagParts.push(p);
      else {
        ct.push(p.subarray(0, ctLen - pos));
        tagParts.push(p.subarray(ctLen - pos));
      }
      pos = end;
    }
    const decipher = createDecipheriv('aes-256-gcm', segKey!, segmentNonce(index, last), { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(segmentAad(aadPrefix, index, last));
    decipher.setAuthTag(tagParts.length === 1 ? tagParts[0]! : Buffer.concat(tagParts));
    // Held back until final() verifies the tag: unauthenticated plaintext never leaves here.
    const plain: Buffer[] = [];
    for (const p of ct) {
      const d = decipher.update(p);
      if (d.length > 0) plain.push(d);
    }
    try {
      decipher.final();
    } catch {
      for (const p of plain) p.fill(0);
      throw new DecryptError(last ? 'bad final segment (truncated, extended or tampered stream)' : 'bad segment');
    }
    for (const p of plain) t.push(p);
    index++;
  };

  const readHeader = (): boolean => {
    if (segKey) return true;
    if (queue.length < STREAM_HEADER_BYTES) return false;
    const header = Buffer.concat(queue.take(STREAM_HEADER_BYTES));
    if (header[0] !== STREAM_VERSION) throw new DecryptError('unknown stream version');
    segKey = hkdf(fileKey, 'cv1|stream', header.subarray(1));
    return true;
  };

  return new Transform({
    transform(this: Transform, chunk: unknown, _enc: BufferEncoding, cb: TransformCallback): void {
      if (failed) return cb();
      try {
        queue.push(toBuffer(chunk));
        if (readHeader()) {
          // A full-size segment followed by more bytes cannot be the last one.
          while (queue.length > ENC_SEGMENT) openSegment(this, queue.take(ENC_SEGMENT), false);
        }
        cb();
      } catch (err) {
        failed = true;
        cb(err as Error);
      }
    },
    flush(this: Transform, cb: TransformCallback): void {
      if (failed) return cb();
      try {
        if (!readHeader()) throw new DecryptError('truncated header');
        if (queue.length < GCM_TAG_BYTES) throw new DecryptError('truncated stream');
        openSegment(this, queue.take(queue.length), true);
        cb();
      } catch (err) {
        failed = true;
        cb(err as Error);
      }
    },
  });
}

/**
 * Layout of a STREAM ciphertext of `encSize` bytes, for random access: how many segments it has
 * and how many plaintext bytes it holds. Throws {@link DecryptError} for a size no encryptor
 * output can have (a truncated file shows up here before any segment is read).
 */
export function streamLayout(encSize: number): { segments: number; plainSize: number } {
  if (!Number.isSafeInteger(encSize) || encSize < STREAM_HEADER_BYTES + GCM_TAG_BYTES) throw new DecryptError('truncated stream');
  const body = encSize - STREAM_HEADER_BYTES;
  const segments = Math.max(1, Math.ceil(body / ENC_SEGMENT));
  const lastLen = body - (segments - 1) * ENC_SEGMENT;
  if (lastLen < GCM_TAG_BYTES) throw new DecryptError('truncated stream');
  return { segments, plainSize: body - segments * GCM_TAG_BYTES };
}

/** Byte offset and sealed length of segment `index` in a ciphertext of `encSize` bytes. */
export function segmentRange(encSize: number, index: number): { offset: number; length: number } {
  const { segments } = streamLayout(encSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= segments) throw new RangeError('segment index out of range');
  const offset = STREAM_HEADER_BYTES + index * ENC_SEGMENT;
  return { offset, length: Math.min(ENC_SEGMENT, encSize - offset) };
}

/**
 * Random-access decryption of {@link createEncryptStream} output: given the 17-byte header,
 * returns a function that opens one sealed segment by index. The caller says whether the segment
 * is the last one (from {@link streamLayout}); a wrong claim fails authentication, so a
 * truncated or extended file cannot pass as whole. Plaintext is returned only after its tag
 * verified.
 */
export function createSegmentOpener(fileKey: Uint8Array, aad: string, header: Uint8Array): (index: number, last: boolean, sealed: Uint8Array) => Buffer {
  assertKey(fileKey, 'file key');
  if (header.length !== STREAM_HEADER_BYTES || header[0] !== STREAM_VERSION) throw new DecryptError('unknown stream version');
  const segKey = hkdf(fileKey, 'cv1|stream', header.subarray(1));
  const aadPrefix = Buffer.from(aad, 'utf8');
  return (index, last, sealed) => {
    if (sealed.length < GCM_TAG_BYTES || sealed.length > ENC_SEGMENT) throw new DecryptError('bad segment length');
    const s = toBuffer(sealed);
    const tagAt = s.length - GCM_TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', segKey, segmentNonce(index, last), { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(segmentAad(aadPrefix, index, last));
    decipher.setAuthTag(s.subarray(tagAt));
    const plain = decipher.update(s.subarray(0, tagAt));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      throw new DecryptError(last ? 'bad final segment (truncated, extended or tampered stream)' : 'bad segment');
    }
    return plain;
  };
}
