import { createHmac } from 'node:crypto';
import { assertKey } from './util.js';

/**
 * Incremental keyed MAC (HMAC-SHA256) of file contents for per-user upload dedupe.
 * Keyed (use the user's `dedupe` subkey), never a plain hash: a plain hash would let anyone
 * with the database confirm that a user holds a known file.
 */
export function createContentMac(key: Uint8Array): { update(chunk: Uint8Array): void; digest(): Buffer } {
  assertKey(key, 'content MAC key');
  const h = createHmac('sha256', key);
  return {
    update(chunk: Uint8Array): void {
      h.update(chunk);
    },
    digest(): Buffer {
      return h.digest();
    },
  };
}
