import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from './util.js';
import { DecryptError } from './errors.js';

/** X25519 public key, private key and encapsulated key size. */
export const X25519_BYTES = 32;
const AEAD_TAG_BYTES = 16;

// RFC 9180 base mode: DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM.
// The X25519 KEM from @hpke/dhkem-x25519 uses @noble, so it works on any Node WebCrypto.
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function assertRawKey(k: Uint8Array, name: string): void {
  if (!(k instanceof Uint8Array) || k.length !== X25519_BYTES) throw new RangeError(`${name} must be ${X25519_BYTES} bytes`);
}

/**
 * New inbox key pair (raw 32-byte X25519 keys). The public key is stored in clear so sync
 * workers can seal to it; the private key must only be stored wrapped by the vault key.
 */
export async function generateInboxKeyPair(): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  const kp = await suite.kem.generateKeyPair();
  const publicKey = Buffer.from(await suite.kem.serializePublicKey(kp.publicKey));
  const privateKey = Buffer.from(await suite.kem.serializePrivateKey(kp.privateKey));
  return { publicKey, privateKey };
}

/**
 * HPKE single-shot seal to a public key. Output = enc(32) || ciphertext (with 16-byte tag).
 * `info` binds context (e.g. `v1|inbox|<userId>|<source>`) so a sealed batch cannot be
 * replayed into another user's or another connector's inbox.
 */
export async function sealToPublicKey(publicKey: Uint8Array, plaintext: Uint8Array, info: string): Promise<Buffer> {
  assertRawKey(publicKey, 'public key');
  const recipientPublicKey = await suite.kem.deserializePublicKey(publicKey);
  const { enc: encapsulated, ct: ciphertext } = await suite.seal({ recipientPublicKey, info: enc(info) }, plaintext);
  return Buffer.concat([Buffer.from(encapsulated), Buffer.from(ciphertext)]);
}

/**
 * Opens a blob from {@link sealToPublicKey}. Wrong key, wrong info, truncation or tampering
 * throw {@link DecryptError} (HPKE's own error types are not leaked to callers).
 */
export async function openWithPrivateKey(privateKey: Uint8Array, sealed: Uint8Array, info: string): Promise<Buffer> {
  assertRawKey(privateKey, 'private key');
  if (!(sealed instanceof Uint8Array) || sealed.length < X25519_BYTES + AEAD_TAG_BYTES) throw new DecryptError('sealed message too short');
  const recipientKey = await suite.kem.deserializePrivateKey(privateKey);
  try {
    const pt = await suite.open({ recipientKey, enc: sealed.subarray(0, X25519_BYTES), info: enc(info) }, sealed.subarray(X25519_BYTES));
    return Buffer.from(pt);
  } catch {
    // Covers AEAD failure and a malformed enc (e.g. low-order point -> DH all-zero -> DecapError).
    throw new DecryptError('HPKE open failed');
  }
}

/** The public key of an inbox private key (to check the stored public key against it). */
export function inboxPublicKeyOf(privateKey: Uint8Array): Buffer {
  assertRawKey(privateKey, 'private key');
  return Buffer.from(x25519.getPublicKey(privateKey));
}

/**
 * Authenticates a user's inbox public key: HMAC-SHA256 under HKDF(SERVER_KEY,
 * "cv1|inbox-public-key") over `v1|inbox-public-key|<userId>|` ‖ key. The sync worker checks it
 * before sealing, so whoever can only write the database cannot swap in a key of their own and
 * read future syncs (the worker holds SERVER_KEY but never a vault key).
 */
export function inboxKeyMac(serverKey: Uint8Array, userId: string, publicKey: Uint8Array): Buffer {
  assertRawKey(publicKey, 'public key');
  return createHmac('sha256', hkdf(serverKey, 'cv1|inbox-public-key')).update(`v1|inbox-public-key|${userId}|`).update(publicKey).digest();
}

/** Constant-time check of {@link inboxKeyMac}; false for a missing MAC. */
export function verifyInboxKeyMac(serverKey: Uint8Array, userId: string, publicKey: Uint8Array, mac: Uint8Array | null): boolean {
  if (!mac || mac.length !== 32) return false;
  return timingSafeEqual(inboxKeyMac(serverKey, userId, publicKey), mac);
}
