import { hkdfSync } from 'node:crypto';

/** Bytes of every symmetric key in this module (AES-256, HMAC-SHA256 keys). */
export const KEY_BYTES = 32;

const EMPTY = Buffer.alloc(0);

/**
 * HKDF-SHA256 (RFC 5869) through OpenSSL. Returns a fresh Buffer of `length` bytes.
 * `info` strings are always ASCII labels chosen in this module, so utf8 encoding is unambiguous.
 */
export function hkdf(ikm: Uint8Array, info: string, salt: Uint8Array = EMPTY, length: number = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), length));
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
