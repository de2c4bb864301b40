import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiTokenLookupId, apiTokenWrappingKey, decodeApiToken, encodeApiToken, newApiTokenSecret } from './api-token.js';
import { sessionLookupId, sessionWrappingKey } from './session.js';

const hkdf = (ikm: Buffer, info: string) => Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));

describe('API token secrets', () => {
  it('derive the documented HKDF labels, distinct from each other and from session keys', () => {
    const s = newApiTokenSecret();
    expect(s.length).toBe(32);
    expect(apiTokenWrappingKey(s).equals(hkdf(s, 'cv1|api-token-key'))).toBe(true);
    expect(apiTokenLookupId(s).equals(hkdf(s, 'cv1|api-token-lookup'))).toBe(true);
    const all = [s, apiTokenWrappingKey(s), apiTokenLookupId(s), sessionWrappingKey(s), sessionLookupId(s)].map((b) => b.toString('hex'));
    expect(new Set(all).size).toBe(all.length);
  });

  it('encode as cvt_ + base64url and refuse anything else, including aliases of the same bytes', () => {
    const s = newApiTokenSecret();
    const t = encodeApiToken(s);
    expect(t).toMatch(/^cvt_[A-Za-z0-9_-]{43}$/);
    expect(decodeApiToken(t)!.equals(s)).toBe(true);
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alias = t.slice(0, -1) + B64URL[B64URL.indexOf(t.at(-1)!) ^ 1];
    expect(decodeApiToken(alias)).toBeNull();
    for (const bad of ['', t.slice(4), `cvs_${t.slice(4)}`, `${t}A`, `${t}=`, t.slice(0, -1), ` ${t}`, t.toUpperCase()]) {
      expect(decodeApiToken(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(decodeApiToken(undefined as unknown as string)).toBeNull();
  });
});
