import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DecryptError } from './errors.js';
import { assertKey } from './util.js';

/** AES-256 only: one key size means one set of security margins to reason about. */
export const GCM_KEY_BYTES = 32;
/** 96-bit IVs only: other lengths go through GHASH and have a history of implementation bugs. */
export const GCM_IV_BYTES = 12;
/** Full 128-bit tags only: truncated GCM tags lose forgery resistance fast. */
export const GCM_TAG_BYTES = 16;

function checkParams(key: Uint8Array, iv: Uint8Array): void {
  assertKey(key, 'AES-GCM key', GCM_KEY_BYTES);
  if (!(iv instanceof Uint8Array) || iv.length !== GCM_IV_BYTES) {
    throw new RangeError(`AES-GCM IV must be ${GCM_IV_BYTES} bytes`);
  }
}

/**
 * AES-256-GCM encryption through OpenSSL (node:crypto), which is several times faster than
 * pure-JS GCM thanks to AES-NI/PCLMUL. Rejects anything but 32-byte keys and 12-byte IVs.
 *
 * The caller is responsible for IV uniqueness per key (see envelope.ts / stream.ts).
 */
export function gcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  checkParams(key, iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * AES-256-GCM decryption. Returns the plaintext only after the tag verified; any failure
 * (bad tag, wrong key, wrong AAD) throws {@link DecryptError}. Wrong key/IV/tag *sizes* are
 * programming errors and throw RangeError instead.
 */
export function gcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Buffer {
  checkParams(key, iv);
  // Refuse short tags ourselves: OpenSSL would otherwise accept a truncated tag if the
  // authTagLength option were ever dropped.
  if (!(tag instanceof Uint8Array) || tag.length !== GCM_TAG_BYTES) {
    throw new RangeError(`AES-GCM tag must be ${GCM_TAG_BYTES} bytes`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const head = decipher.update(ciphertext);
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    // Unverified plaintext in `head` is dropped with this frame; wipe it anyway.
    head.fill(0);
    throw new DecryptError('authentication failed');
  }
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}
