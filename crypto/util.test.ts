import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdf, hkdfExpand, hkdfExtract } from './util.js';

describe('hkdf', () => {
  it('gives what OpenSSL’s HKDF-SHA256 gives, with and without salt, at every length', () => {
    for (const salt of [Buffer.alloc(0), randomBytes(16), Buffer.from('0b7c3e2a-1f4d-4b6a-8c9e-2d5f7a1b3c4e')]) {
      for (const length of [1, 16, 31, 32, 33, 64]) {
        const ikm = randomBytes(32);
        expect(hkdf(ikm, 'cv1|row', salt, length)).toEqual(Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('cv1|row'), length)));
      }
    }
  });

  it('matches RFC 5869 test case 3 (no salt, no info) in its first block', () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const okm = '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8';
    expect(hkdfExtract(ikm).toString('hex')).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
    expect(hkdfExpand(hkdfExtract(ikm), '').toString('hex')).toBe(okm.slice(0, 64));
    expect(() => hkdfExpand(hkdfExtract(ikm), '', 33)).toThrow(RangeError);
  });
});
