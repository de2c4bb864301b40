import { randomBytes } from 'node:crypto';
import { assertKey, hkdf, KEY_BYTES } from './util.js';

/**
 * Personal API tokens: `cvt_` + 43 characters of unpadded base64url carrying a 32-byte secret.
 * Like a session cookie, the secret wraps a copy of the vault key and yields an independent
 * lookup id; the server stores only those two, never the secret. The prefix lets secret
 * scanners and people recognise a leaked token.
 */
export const API_TOKEN_PREFIX = 'cvt_';

/** A fresh 32-byte API token secret. */
export function newApiTokenSecret(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Key that wraps the vault key for this token: HKDF(secret, info "cv1|api-token-key"). */
export function apiTokenWrappingKey(secret: Uint8Array): Buffer {
  assertKey(secret, 'API token secret');
  return hkdf(secret, 'cv1|api-token-key');
}

/**
 * Identifier stored to find the token: HKDF(secret, info "cv1|api-token-lookup"). Independent of
 * the wrapping key (distinct label), so a database copy cannot unwrap the vault key.
 */
export function apiTokenLookupId(secret: Uint8Array): Buffer {
  assertKey(secret, 'API token secret');
  return hkdf(secret, 'cv1|api-token-lookup');
}

/** The token string a user copies: `cvt_<base64url secret>`. */
export function encodeApiToken(secret: Uint8Array): string {
  assertKey(secret, 'API token secret');
  return API_TOKEN_PREFIX + Buffer.from(secret).toString('base64url');
}

const TOKEN_RE = /^cvt_[A-Za-z0-9_-]{43}$/;

/** Parses a token back into its secret; `null` for anything malformed or non-canonical. */
export function decodeApiToken(value: string): Buffer | null {
  if (typeof value !== 'string' || !TOKEN_RE.test(value)) return null;
  const body = value.slice(API_TOKEN_PREFIX.length);
  const secret = Buffer.from(body, 'base64url');
  if (secret.length !== KEY_BYTES || secret.toString('base64url') !== body) return null;
  return secret;
}
