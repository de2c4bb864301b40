import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { gcmDecrypt, gcmEncrypt, GCM_IV_BYTES, GCM_TAG_BYTES } from './aes-gcm.js';
import { DecryptError } from './errors.js';
import { assertField, assertKey, asBuffer, hkdfExpand, hkdfExtract } from './util.js';

/** Current record format version (first byte of every sealed blob). */
export const RECORD_VERSION = 0x01;
/** HMAC-SHA256 commitment length. */
export const COMMITMENT_BYTES = 32;
/** version(1) + nonce(12) + commitment(32) + tag(16): the size of a sealed empty plaintext. */
export const RECORD_OVERHEAD = 1 + GCM_IV_BYTES + COMMITMENT_BYTES + GCM_TAG_BYTES;

const NONCE_AT = 1;
const COMMIT_AT = NONCE_AT + GCM_IV_BYTES;
const CT_AT = COMMIT_AT + COMMITMENT_BYTES;

/** The two keys a sealed record is made and opened with, both derived from its row key. */
export interface RecordKeys {
  encKey: Buffer;
  commitKey: Buffer;
}

/**
 * The two keys used by a sealed record. Exposed so tests and tools can check the wire format;
 * application code should only need {@link sealRecord}/{@link openRecord}.
 */
export function recordKeys(rowKey: Uint8Array): RecordKeys {
  assertKey(rowKey, 'row key');
  // Separate keys so the commitment HMAC and AES never share key material. Both are
  // HKDF(rowKey, no salt, label): one extract serves the two expands.
  const prk = hkdfExtract(rowKey);
  return { encKey: hkdfExpand(prk, 'cv1|enc'), commitKey: hkdfExpand(prk, 'cv1|commit') };
}

function commitment(commitKey: Buffer, nonce: Uint8Array, aadBytes: Buffer): Buffer {
  return createHmac('sha256', commitKey).update(nonce).update(aadBytes).digest();
}

/**
 * Canonical AAD for a vault record: binds the ciphertext to its owner, table, row and row
 * version so rows cannot be swapped, moved between users or rolled back to an older version.
 * Fields must not contain `|` (ambiguity) and version must be a non-negative safe integer.
 */
export function recordAad(p: { userId: string; table: string; rowId: string; version: number }): string {
  assertField(p.userId, 'userId');
  assertField(p.table, 'table');
  assertField(p.rowId, 'rowId');
  if (!Number.isSafeInteger(p.version) || p.version < 0) throw new RangeError('version must be a non-negative integer');
  return `v1|${p.userId}|${p.table}|${p.rowId}|${p.version}`;
}

/**
 * Encrypts one record under its row key.
 *
 * Wire format: `0x01 || nonce(12, random) || commitment(32) || ciphertext || tag(16)`.
 * The commitment (HMAC over nonce‖aad under a key derived from the row key) makes the
 * blob key-committing, which AES-GCM alone is not (partitioning-oracle / invisible-salamander
 * attacks). Random 96-bit nonces are safe because each row has its own key.
 */
export function sealRecord(rowKey: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  return sealRecordWith(recordKeys(rowKey), plaintext, aad);
}

/** {@link sealRecord} with the row key's {@link recordKeys} already derived (a caller that keeps them for a hot row). */
export function sealRecordWith({ encKey, commitKey }: RecordKeys, plaintext: Uint8Array, aad: string): Buffer {
  const aadBytes = Buffer.from(aad, 'utf8');
  const nonce = randomBytes(GCM_IV_BYTES);
  const { ciphertext, tag } = gcmEncrypt(encKey, nonce, plaintext, aadBytes);
  const out = Buffer.allocUnsafe(RECORD_OVERHEAD + ciphertext.length);
  out[0] = RECORD_VERSION;
  nonce.copy(out, NONCE_AT);
  commitment(commitKey, nonce, aadBytes).copy(out, COMMIT_AT);
  ciphertext.copy(out, CT_AT);
  tag.copy(out, CT_AT + ciphertext.length);
  return out;
}

/**
 * Decrypts a blob made by {@link sealRecord}. The commitment is verified (constant time)
 * before any decryption is attempted. Throws {@link DecryptError} for an unknown version,
 * short blob, wrong key, wrong AAD or any modified byte.
 */
export function openRecord(rowKey: Uint8Array, blob: Uint8Array, aad: string): Buffer {
  return openRecordWith(recordKeys(rowKey), blob, aad);
}

/** {@link openRecord} with the row key's {@link recordKeys} already derived. */
export function openRecordWith({ encKey, commitKey }: RecordKeys, blob: Uint8Array, aad: string): Buffer {
  const b = asBuffer(blob);
  if (b.length < RECORD_OVERHEAD) throw new DecryptError('record too short');
  if (b[0] !== RECORD_VERSION) throw new DecryptError('unknown record version');
  const aadBytes = Buffer.from(aad, 'utf8');
  const nonce = b.subarray(NONCE_AT, COMMIT_AT);
  const expected = commitment(commitKey, nonce, aadBytes);
  if (!timingSafeEqual(expected, b.subarray(COMMIT_AT, CT_AT))) throw new DecryptError('commitment mismatch');
  const tagAt = b.length - GCM_TAG_BYTES;
  return gcmDecrypt(encKey, nonce, b.subarray(CT_AT, tagAt), b.subarray(tagAt), aadBytes);
}
