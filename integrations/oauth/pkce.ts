import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A random URL-safe value. 32 bytes (256 bits) by default: well above the 128 bits that
 * SMART App Launch asks of `state`, and RFC 7636's 43-character minimum for a verifier.
 */
export function randomUrlToken(bytes = 32): string {
  if (bytes < 16) throw new RangeError('at least 16 bytes (128 bits)');
  return randomBytes(bytes).toString('base64url');
}

/** A PKCE pair. Only S256 is ever produced: `plain` would hand the verifier to the front channel. */
export function pkcePair(): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = randomUrlToken(32);
  return { verifier, challenge: s256(verifier), method: 'S256' };
}

/** BASE64URL(SHA256(ascii(verifier))), RFC 7636 §4.2. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Constant-time comparison of two strings (state, nonce). */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
