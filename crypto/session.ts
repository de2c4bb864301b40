import { randomBytes } from 'node:crypto';
import { assertKey, hkdf, KEY_BYTES } from './util.js';

/** A fresh 32-byte session secret; it lives only in the browser's HttpOnly cookie. */
export function newSessionSecret(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Key that wraps the vault key for this session: HKDF(secret, info "cv1|session-key"). */
export function sessionWrappingKey(secret: Uint8Array): Buffer {
  assertKey(secret, 'session secret');
  return hkdf(secret, 'cv1|session-key');
}

/**
 * Identifier stored in the database to find the session: HKDF(secret, info "cv1|session-lookup").
 * A distinct label makes it independent of the wrapping key, so a database copy (which has the
 * lookup id and the wrapped VK) cannot unwrap anything.
 */
export function sessionLookupId(secret: Uint8Array): Buffer {
  assertKey(secret, 'session secret');
  return hkdf(secret, 'cv1|session-lookup');
}

/** Cookie value for a session secret: unpadded base64url (43 characters). */
export function encodeSessionCookie(secret: Uint8Array): string {
  assertKey(secret, 'session secret');
  return Buffer.from(secret).toString('base64url');
}

const COOKIE_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Parses a cookie value back into the 32-byte secret; `null` for anything else (wrong length,
 * bad characters, padding, or a non-canonical spelling that would alias the same secret).
 */
export function decodeSessionCookie(value: string): Buffer | null {
  if (typeof value !== 'string' || !COOKIE_RE.test(value)) return null;
  const secret = Buffer.from(value, 'base64url');
  if (secret.length !== KEY_BYTES || secret.toString('base64url') !== value) return null;
  return secret;
}
