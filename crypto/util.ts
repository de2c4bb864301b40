import { createHmac, hkdfSync } from 'node:crypto';

/** Bytes of every symmetric key in this module (AES-256, HMAC-SHA256 keys). */
export const KEY_BYTES = 32;

const EMPTY = Buffer.alloc(0);

/** SHA-256's output: what one HKDF-Expand block gives, and the all-zero salt RFC 5869 means by none. */
const HASH_BYTES = 32;
const ZERO_SALT = Buffer.alloc(HASH_BYTES);
const BLOCK_1 = Buffer.of(1);

/**
 * HKDF-SHA256 (RFC 5869). Returns a fresh Buffer of `length` bytes.
 * `info` strings are always ASCII labels chosen in this module, so utf8 encoding is unambiguous.
 */
export function hkdf(ikm: Uint8Array, info: string, salt: Uint8Array = EMPTY, length: number = KEY_BYTES): Buffer {
  if (length > HASH_BYTES) return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), length));
  const prk = hkdfExtract(ikm, salt);
  try {
    return hkdfExpand(prk, info, length);
  } finally {
    prk.fill(0);
  }
}

/**
 * HKDF-Extract: the pseudorandom key several {@link hkdfExpand} labels can share. Two HMACs
 * directly cost about a third of one `hkdfSync` call, which pays OpenSSL's per-call setup; row
 * keys are derived for every row a request reads.
 */
export function hkdfExtract(ikm: Uint8Array, salt: Uint8Array = EMPTY): Buffer {
  return createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
    .update(ikm)
    .digest();
}

/** HKDF-Expand for one block (`length` ≤ 32): T(1) = HMAC(prk, info ‖ 0x01), cut to `length`. */
export function hkdfExpand(prk: Uint8Array, info: string, length: number = KEY_BYTES): Buffer {
  if (length > HASH_BYTES) throw new RangeError(`one HKDF block gives at most ${HASH_BYTES} bytes`);
  const t = createHmac('sha256', prk).update(info, 'utf8').update(BLOCK_1).digest();
  return length === HASH_BYTES ? t : t.subarray(0, length);
}

/** Throws a programming error (not a DecryptError) when a key has the wrong size. */
export function assertKey(key: Uint8Array, name: string, exact = KEY_BYTES): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (key.length !== exact) throw new RangeError(`${name} must be ${exact} bytes, got ${key.length}`);
}

/**
 * Rejects context fields that could make a `|`-joined AAD/label ambiguous
 * (e.g. userId "a|b" + table "c" vs userId "a" + table "b|c").
 */
export function assertField(value: string, name: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  if (value.includes('|')) throw new RangeError(`${name} must not contain '|'`);
}

/** Zero-copy view of any Uint8Array as a Buffer (node:crypto APIs accept both; Buffer gives us helpers). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
