import { describe, expect, it } from 'vitest';
import { createContentMac } from './content-mac.js';
import { randomKey } from './keys.js';
import { decodeSessionCookie, encodeSessionCookie, newSessionSecret, sessionLookupId, sessionWrappingKey } from './session.js';

describe('session secrets', () => {
  it('derives distinct 32-byte wrapping key and lookup id', () => {
    const s = newSessionSecret();
    expect(s.length).toBe(32);
    const w = sessionWrappingKey(s);
    const id = sessionLookupId(s);
    expect(w.length).toBe(32);
    expect(id.length).toBe(32);
    expect(w.equals(id)).toBe(false);
    expect(w.equals(s) || id.equals(s)).toBe(false);
    expect(sessionLookupId(s).equals(id)).toBe(true);
  });

  it('cookie encoding round-trips and rejects everything else', () => {
    const s = newSessionSecret();
    const v = encodeSessionCookie(s);
    expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeSessionCookie(v)!.equals(s)).toBe(true);
    // Same 32 bytes, different spelling: set one of the 2 unused trailing bits.
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alias = v.slice(0, 42) + B64URL[B64URL.indexOf(v[42]!) ^ 1];
    expect(Buffer.from(alias, 'base64url').equals(s)).toBe(true);
    expect(decodeSessionCookie(alias)).toBeNull();
    for (const bad of [
      '',
      v.slice(1),
      `${v}A`,
      `${v}=`,
      v.replace(/.$/, '+'),
      Buffer.alloc(31).toString('base64url'),
      Buffer.alloc(33).toString('base64url'),
      ' '.repeat(43),
    ]) {
      expect(decodeSessionCookie(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(decodeSessionCookie(undefined as unknown as string)).toBeNull();
  });
});

describe('content MAC', () => {
  it('is keyed HMAC-SHA256, chunking-independent', () => {
    const k = randomKey();
    const data = Buffer.from('some file contents '.repeat(1000));
    const a = createContentMac(k);
    a.update(data);
    const b = createContentMac(k);
    for (let i = 0; i < data.length; i += 777) b.update(data.subarray(i, i + 777));
    const da = a.digest();
    expect(da.length).toBe(32);
    expect(da.equals(b.digest())).toBe(true);
    const c = createContentMac(randomKey());
    c.update(data);
    expect(c.digest().equals(da)).toBe(false);
    expect(() => createContentMac(Buffer.alloc(0))).toThrow();
  });
});
