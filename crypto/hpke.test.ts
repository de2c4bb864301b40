import { createHmac } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { gcmDecrypt, gcmEncrypt } from './aes-gcm.js';
import { DecryptError } from './errors.js';
import { generateInboxKeyPair, openWithPrivateKey, sealToPublicKey } from './hpke.js';
import { createCipheriv } from 'node:crypto';

// Independent RFC 9180 base-mode implementation (noble X25519 + node HMAC) used as an oracle.
const hex = (s: string) => Buffer.from(s, 'hex');
const cat = (...b: Uint8Array[]) => Buffer.concat(b);
const i2osp = (n: number, len: number) => {
  const b = Buffer.alloc(len);
  b.writeUIntBE(n, 0, len);
  return b;
};
const extract = (salt: Uint8Array, ikm: Uint8Array) => createHmac('sha256', salt).update(ikm).digest();
const expand = (prk: Uint8Array, info: Uint8Array, len: number) => {
  let t = Buffer.alloc(0);
  let out = Buffer.alloc(0);
  for (let i = 1; out.length < len; i++) {
    t = createHmac('sha256', prk)
      .update(cat(t, info, Buffer.from([i])))
      .digest();
    out = cat(out, t);
  }
  return out.subarray(0, len);
};
const V1 = Buffer.from('HPKE-v1');
const KEM_SUITE = cat(Buffer.from('KEM'), i2osp(0x20, 2));
const lExtract = (suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array) => extract(salt, cat(V1, suite, Buffer.from(label), ikm));
const lExpand = (suite: Buffer, prk: Uint8Array, label: string, info: Uint8Array, len: number) =>
  expand(prk, cat(i2osp(len, 2), V1, suite, Buffer.from(label), info), len);

function schedule(aeadId: number, nk: number, sharedSecret: Buffer, info: Uint8Array) {
  const suite = cat(Buffer.from('HPKE'), i2osp(0x20, 2), i2osp(1, 2), i2osp(aeadId, 2));
  const empty = Buffer.alloc(0);
  const ctx = cat(Buffer.from([0]), lExtract(suite, empty, 'psk_id_hash', empty), lExtract(suite, empty, 'info_hash', info));
  const secret = lExtract(suite, sharedSecret, 'secret', empty);
  return { key: lExpand(suite, secret, 'key', ctx, nk), baseNonce: lExpand(suite, secret, 'base_nonce', ctx, 12) };
}

function encapWith(skE: Uint8Array, pkR: Uint8Array) {
  const enc = Buffer.from(x25519.getPublicKey(skE));
  const dh = x25519.getSharedSecret(skE, pkR);
  const eae = lExtract(KEM_SUITE, Buffer.alloc(0), 'eae_prk', dh);
  return { enc, sharedSecret: lExpand(KEM_SUITE, eae, 'shared_secret', cat(enc, pkR), 32) };
}

function decap(skR: Uint8Array, enc: Uint8Array) {
  const pkR = x25519.getPublicKey(skR);
  const dh = x25519.getSharedSecret(skR, enc);
  const eae = lExtract(KEM_SUITE, Buffer.alloc(0), 'eae_prk', dh);
  return lExpand(KEM_SUITE, eae, 'shared_secret', cat(enc, pkR), 32);
}

describe('reference implementation', () => {
  it('reproduces RFC 9180 A.1.1 (X25519, HKDF-SHA256, AES-128-GCM, base mode)', () => {
    const skE = hex('52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736');
    const skR = hex('4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8');
    const pkR = x25519.getPublicKey(skR);
    expect(Buffer.from(pkR).toString('hex')).toBe('3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d');
    const { enc, sharedSecret } = encapWith(skE, pkR);
    expect(enc.toString('hex')).toBe('37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431');
    expect(sharedSecret.toString('hex')).toBe('fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc');
    expect(decap(skR, enc).equals(sharedSecret)).toBe(true);
    const { key, baseNonce } = schedule(1, 16, sharedSecret, hex('4f6465206f6e2061204772656369616e2055726e'));
    expect(key.toString('hex')).toBe('4531685d41d65f03dc48f6b8302c05b0');
    expect(baseNonce.toString('hex')).toBe('56d890e5accaaf011cff4b7d');
    const c = createCipheriv('aes-128-gcm', key, baseNonce);
    c.setAAD(hex('436f756e742d30'));
    const ct = cat(c.update(hex('4265617574792069732074727574682c20747275746820626561757479')), c.final(), c.getAuthTag());
    expect(ct.toString('hex')).toBe('f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a');
  });
});

describe('HPKE inbox', () => {
  const info = 'v1|inbox|user-1|fitbit';

  it('generates raw 32-byte keys and round-trips', async () => {
    const { publicKey, privateKey } = await generateInboxKeyPair();
    expect(publicKey.length).toBe(32);
    expect(privateKey.length).toBe(32);
    expect(Buffer.from(x25519.getPublicKey(privateKey)).equals(publicKey)).toBe(true);
    for (const pt of [Buffer.alloc(0), Buffer.from('{"steps":1234}'), Buffer.alloc(100_000, 7)]) {
      const sealed = await sealToPublicKey(publicKey, pt, info);
      expect(sealed.length).toBe(32 + pt.length + 16);
      expect((await openWithPrivateKey(privateKey, sealed, info)).equals(pt)).toBe(true);
    }
  });

  it('interoperates with the reference implementation (AES-256-GCM) both ways', async () => {
    const { publicKey, privateKey } = await generateInboxKeyPair();
    const pt = Buffer.from('batch of health data');
    // Ours -> reference.
    const sealed = await sealToPublicKey(publicKey, pt, info);
    const enc = sealed.subarray(0, 32);
    const { key, baseNonce } = schedule(2, 32, decap(privateKey, enc), Buffer.from(info));
    const body = sealed.subarray(32);
    expect(gcmDecrypt(key, baseNonce, body.subarray(0, -16), body.subarray(-16), Buffer.alloc(0)).equals(pt)).toBe(true);
    // Reference -> ours.
    const skE = x25519.utils.randomSecretKey();
    const e = encapWith(skE, publicKey);
    const s = schedule(2, 32, e.sharedSecret, Buffer.from(info));
    const { ciphertext, tag } = gcmEncrypt(s.key, s.baseNonce, pt, Buffer.alloc(0));
    expect((await openWithPrivateKey(privateKey, cat(e.enc, ciphertext, tag), info)).equals(pt)).toBe(true);
  });

  it('fails with the wrong key, wrong info, tampering or truncation', async () => {
    const a = await generateInboxKeyPair();
    const b = await generateInboxKeyPair();
    const sealed = await sealToPublicKey(a.publicKey, Buffer.from('secret batch'), info);
    await expect(openWithPrivateKey(b.privateKey, sealed, info)).rejects.toBeInstanceOf(DecryptError);
    await expect(openWithPrivateKey(a.privateKey, sealed, 'v1|inbox|user-2|fitbit')).rejects.toBeInstanceOf(DecryptError);
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x01;
      await expect(openWithPrivateKey(a.privateKey, bad, info), `byte ${i}`).rejects.toBeInstanceOf(DecryptError);
    }
    await expect(openWithPrivateKey(a.privateKey, sealed.subarray(0, 47), info)).rejects.toBeInstanceOf(DecryptError);
    await expect(openWithPrivateKey(a.privateKey, sealed.subarray(0, -1), info)).rejects.toBeInstanceOf(DecryptError);
    // All-zero (low-order) enc must not decrypt.
    const zeroEnc = Buffer.concat([Buffer.alloc(32), sealed.subarray(32)]);
    await expect(openWithPrivateKey(a.privateKey, zeroEnc, info)).rejects.toBeInstanceOf(DecryptError);
    await expect(sealToPublicKey(Buffer.alloc(31), Buffer.alloc(1), info)).rejects.toThrow(RangeError);
  });
});
