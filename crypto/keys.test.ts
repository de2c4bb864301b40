import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptError } from './errors.js';
import {
  deriveRowKey,
  deriveSubkey,
  openToken,
  randomKey,
  sealToken,
  serverTokenKey,
  SUBKEY_PURPOSES,
  unwrapVaultKey,
  wrapVaultKey,
  type SubkeyPurpose,
  type WrapContext,
} from './keys.js';

const hk = (ikm: Buffer, salt: Buffer, info: string) => Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), 32));

describe('key derivation', () => {
  const vk = randomKey();

  it('randomKey is 32 random bytes', () => {
    expect(randomKey().length).toBe(32);
    expect(randomKey().equals(randomKey())).toBe(false);
  });

  it('deriveSubkey matches HKDF-SHA256 with the documented label, and purposes are distinct', () => {
    const seen = new Set<string>();
    for (const p of SUBKEY_PURPOSES) {
      const k = deriveSubkey(vk, p);
      expect(k.equals(hk(vk, Buffer.alloc(0), `cv1|subkey|${p}`))).toBe(true);
      seen.add(k.toString('hex'));
    }
    expect(seen.size).toBe(SUBKEY_PURPOSES.length);
    expect(() => deriveSubkey(vk, 'nope' as SubkeyPurpose)).toThrow();
    expect(() => deriveSubkey(Buffer.alloc(31), 'items')).toThrow(RangeError);
  });

  it('deriveRowKey uses salt = rowId and info cv1|row', () => {
    const sub = deriveSubkey(vk, 'items');
    expect(deriveRowKey(sub, 'row-1').equals(hk(sub, Buffer.from('row-1'), 'cv1|row'))).toBe(true);
    expect(deriveRowKey(sub, 'row-1').equals(deriveRowKey(sub, 'row-2'))).toBe(false);
    expect(() => deriveRowKey(sub, '')).toThrow();
  });
});

describe('vault key wrapping', () => {
  const vk = randomKey();
  const wk = randomKey();
  const ctx: WrapContext = { purpose: 'passphrase', userId: 'user-1', keyVersion: 1 };

  it('round-trips', () => {
    expect(unwrapVaultKey(wk, wrapVaultKey(wk, vk, ctx), ctx).equals(vk)).toBe(true);
  });

  it('fails with a wrong key or any changed context field', () => {
    const w = wrapVaultKey(wk, vk, ctx);
    expect(() => unwrapVaultKey(randomKey(), w, ctx)).toThrow(DecryptError);
    expect(() => unwrapVaultKey(wk, w, { ...ctx, purpose: 'recovery' })).toThrow(DecryptError);
    expect(() => unwrapVaultKey(wk, w, { ...ctx, userId: 'user-2' })).toThrow(DecryptError);
    expect(() => unwrapVaultKey(wk, w, { ...ctx, keyVersion: 2 })).toThrow(DecryptError);
  });

  it('rejects malformed contexts', () => {
    expect(() => wrapVaultKey(wk, vk, { ...ctx, userId: 'a|b' })).toThrow();
    expect(() => wrapVaultKey(wk, vk, { ...ctx, purpose: 'other' as 'session' })).toThrow();
    expect(() => wrapVaultKey(wk, Buffer.alloc(16), ctx)).toThrow(RangeError);
  });
});

describe('server-held token encryption', () => {
  const sk = randomKey();

  it('derives per user and provider', () => {
    expect(serverTokenKey(sk, 'u1', 'fitbit').equals(hk(sk, Buffer.alloc(0), 'cv1|token|fitbit|u1'))).toBe(true);
    expect(serverTokenKey(sk, 'u1', 'fitbit').equals(serverTokenKey(sk, 'u2', 'fitbit'))).toBe(false);
    expect(() => serverTokenKey(Buffer.alloc(16), 'u1', 'fitbit')).toThrow(RangeError);
  });

  it('round-trips and binds user and provider', () => {
    const blob = sealToken(sk, 'u1', 'epic', 'refresh-token-✓');
    expect(openToken(sk, 'u1', 'epic', blob)).toBe('refresh-token-✓');
    expect(() => openToken(sk, 'u2', 'epic', blob)).toThrow(DecryptError);
    expect(() => openToken(sk, 'u1', 'fitbit', blob)).toThrow(DecryptError);
    expect(() => openToken(randomKey(), 'u1', 'epic', blob)).toThrow(DecryptError);
  });
});
