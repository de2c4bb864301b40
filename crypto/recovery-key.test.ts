import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatRecoveryKey, generateRecoveryKey, InvalidRecoveryKeyError, parseRecoveryKey, recoveryWrappingKey } from './recovery-key.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

describe('recovery key', () => {
  it('generates 256 bits and printable CV1- grouped text that round-trips', () => {
    for (let i = 0; i < 50; i++) {
      const { key, text } = generateRecoveryKey();
      expect(key.length).toBe(32);
      expect(text).toMatch(/^CV1(-[0-9A-HJKMNP-TV-Z]{4}){14}-[0-9A-HJKMNP-TV-Z]{2}$/);
      expect(parseRecoveryKey(text).equals(key)).toBe(true);
    }
  });

  it('tolerates case, spaces, dash changes, a missing prefix and O/0 I/L/1 confusion', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff0123456789abcdef0011223344556677', 'hex');
    const text = formatRecoveryKey(key);
    const body = text.slice(4);
    const variants = [
      text.toLowerCase(),
      text.replace(/-/g, ' '),
      text.replace(/-/g, ''),
      text.replace(/-/g, '--'),
      `  ${text.replace(/-/g, ' - ')}  `,
      body,
      body.replace(/-/g, ''),
      text.replace(/0/g, 'O').replace(/1/g, 'I'),
      text.replace(/1/g, 'l').toLowerCase(),
      text.replace('CV1', 'cvl'),
      text.match(/.{1,5}/g)!.join('-'),
    ];
    for (const v of variants) expect(parseRecoveryKey(v).equals(key), v).toBe(true);
  });

  it('detects every single changed character and every adjacent swap', () => {
    for (let k = 0; k < 5; k++) {
      const { text } = generateRecoveryKey();
      const body = text.slice(4).replace(/-/g, '');
      for (let i = 0; i < body.length; i++) {
        for (const c of ALPHABET) {
          if (c === body[i]) continue;
          const bad = body.slice(0, i) + c + body.slice(i + 1);
          expect(() => parseRecoveryKey(bad)).toThrow(InvalidRecoveryKeyError);
        }
        if (i + 1 < body.length && body[i] !== body[i + 1]) {
          const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
          expect(() => parseRecoveryKey(swapped)).toThrow(InvalidRecoveryKeyError);
        }
      }
    }
  });

  it('rejects wrong lengths, foreign characters and prefixes', () => {
    const { text } = generateRecoveryKey();
    expect(() => parseRecoveryKey(text.slice(0, -1))).toThrow(InvalidRecoveryKeyError);
    expect(() => parseRecoveryKey(`${text}0`)).toThrow(InvalidRecoveryKeyError);
    expect(() => parseRecoveryKey(text.replace(/.$/, 'U'))).toThrow(InvalidRecoveryKeyError);
    expect(() => parseRecoveryKey(text.replace('CV1', 'CV2'))).toThrow(InvalidRecoveryKeyError);
    expect(() => parseRecoveryKey('')).toThrow(InvalidRecoveryKeyError);
    try {
      parseRecoveryKey(text.slice(0, -1));
    } catch (e) {
      expect((e as Error).message).not.toContain(text.slice(4, 12));
    }
  });

  it('recoveryWrappingKey is HKDF(key, "cv1|recovery")', () => {
    const { key } = generateRecoveryKey();
    const expected = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), Buffer.from('cv1|recovery'), 32));
    expect(recoveryWrappingKey(key).equals(expected)).toBe(true);
    expect(recoveryWrappingKey(key).equals(key)).toBe(false);
  });
});
