import { randomBytes } from 'node:crypto';
import { openRecord, sealRecord } from './envelope.js';
import { assertField, assertKey, hkdf, KEY_BYTES } from './util.js';

/** 32 fresh random bytes from the OS CSPRNG (vault keys, file keys, server keys). */
export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Independent key domains under one vault key; each gets its own HKDF label. */
export type SubkeyPurpose = 'items' | 'files' | 'index' | 'chats' | 'series' | 'tags' | 'dedupe' | 'inbox' | 'export' | 'types' | 'jobs' | 'tokens' | 'vectors';

/** Every valid {@link SubkeyPurpose}, for runtime checks (purposes may arrive from untyped code). */
export const SUBKEY_PURPOSES: readonly SubkeyPurpose[] = Object.freeze([
  'items',
  'files',
  'index',
  'chats',
  'series',
  'tags',
  'dedupe',
  'inbox',
  'export',
  'types',
  'jobs',
  'tokens',
  'vectors',
] as const);

/**
 * Derives a purpose subkey from the vault key: HKDF-SHA256, empty salt, info `cv1|subkey|<purpose>`.
 * Distinct labels keep e.g. the blind-index key useless for decrypting items.
 */
export function deriveSubkey(vaultKey: Uint8Array, purpose: SubkeyPurpose): Buffer {
  assertKey(vaultKey, 'vault key');
  if (!SUBKEY_PURPOSES.includes(purpose)) throw new RangeError(`unknown subkey purpose: ${String(purpose)}`);
  return hkdf(vaultKey, `cv1|subkey|${purpose}`);
}

/**
 * Per-row key: HKDF-SHA256(subkey, salt = utf8(rowId), info "cv1|row"). Per-row keys keep the
 * random-nonce collision bound per row rather than per vault, and make keys row-specific.
 */
export function deriveRowKey(subkey: Uint8Array, rowId: string): Buffer {
  assertKey(subkey, 'subkey');
  // An empty salt would collapse to HKDF's default all-zero salt, shared by every empty id.
  if (typeof rowId !== 'string' || rowId.length === 0) throw new TypeError('rowId must be a non-empty string');
  return hkdf(subkey, 'cv1|row', Buffer.from(rowId, 'utf8'));
}

/** Binding for a wrapped copy of the vault key. */
export interface WrapContext {
  purpose: 'passphrase' | 'recovery' | 'session' | 'token';
  userId: string;
  keyVersion: number;
}

const WRAP_PURPOSES = new Set(['passphrase', 'recovery', 'session', 'token']);

/** AAD for a wrapped vault key: `v1|wrap|<purpose>|<userId>|<keyVersion>`. */
export function wrapAad(ctx: WrapContext): string {
  if (!WRAP_PURPOSES.has(ctx.purpose)) throw new RangeError(`unknown wrap purpose: ${String(ctx.purpose)}`);
  assertField(ctx.userId, 'userId');
  if (!Number.isSafeInteger(ctx.keyVersion) || ctx.keyVersion < 0) throw new RangeError('keyVersion must be a non-negative integer');
  return `v1|wrap|${ctx.purpose}|${ctx.userId}|${ctx.keyVersion}`;
}

/**
 * Wraps (encrypts) the vault key under a passphrase/recovery/session/API-token key, in the
 * {@link sealRecord} format. The AAD stops a wrapped key being replayed for another user,
 * another purpose or an older key version.
 */
export function wrapVaultKey(wrappingKey: Uint8Array, vaultKey: Uint8Array, ctx: WrapContext): Buffer {
  assertKey(vaultKey, 'vault key');
  return sealRecord(wrappingKey, vaultKey, wrapAad(ctx));
}

/** Unwraps a vault key. Wrong wrapping key, wrong ctx or tampering -> DecryptError. */
export function unwrapVaultKey(wrappingKey: Uint8Array, wrapped: Uint8Array, ctx: WrapContext): Buffer {
  const vk = openRecord(wrappingKey, wrapped, wrapAad(ctx));
  // Authenticated, so a wrong length means our own bug, not an attack; still refuse it.
  if (vk.length !== KEY_BYTES) throw new RangeError('unwrapped vault key has the wrong length');
  return vk;
}

function assertServerKey(serverKey: Uint8Array): void {
  if (!(serverKey instanceof Uint8Array) || serverKey.length < KEY_BYTES) {
    throw new RangeError(`server key must be at least ${KEY_BYTES} bytes`);
  }
}

/**
 * Per-user, per-provider key under the server-held SERVER_KEY (connector refresh tokens are the
 * one thing that must be readable without the user). HKDF info `cv1|token|<provider>|<userId>`.
 */
export function serverTokenKey(serverKey: Uint8Array, userId: string, provider: string): Buffer {
  assertServerKey(serverKey);
  assertField(userId, 'userId');
  assertField(provider, 'provider');
  return hkdf(serverKey, `cv1|token|${provider}|${userId}`);
}

/**
 * Key for the activity list's page cursors under SERVER_KEY: a cursor names an audit row, whose
 * id comes from one sequence for every user, so it is sealed to keep other users' event counts
 * out of it. HKDF info `cv1|activity-cursor`.
 */
export function activityCursorKey(serverKey: Uint8Array): Buffer {
  assertServerKey(serverKey);
  return hkdf(serverKey, 'cv1|activity-cursor');
}

function tokenAad(userId: string, provider: string): string {
  return `v1|token|${provider}|${userId}`;
}

/** Encrypts a connector token (e.g. OAuth refresh token) for one user and provider. */
export function sealToken(serverKey: Uint8Array, userId: string, provider: string, plaintext: string): Buffer {
  const key = serverTokenKey(serverKey, userId, provider);
  return sealRecord(key, Buffer.from(plaintext, 'utf8'), tokenAad(userId, provider));
}

/** Decrypts a token sealed by {@link sealToken}; wrong user/provider/key -> DecryptError. */
export function openToken(serverKey: Uint8Array, userId: string, provider: string, blob: Uint8Array): string {
  const key = serverTokenKey(serverKey, userId, provider);
  return openRecord(key, blob, tokenAad(userId, provider)).toString('utf8');
}
