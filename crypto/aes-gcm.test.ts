import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gcmDecrypt, gcmEncrypt } from './aes-gcm.js';
import { DecryptError } from './errors.js';

interface WycheproofTest {
  tcId: number;
  comment: string;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: WycheproofTest[];
}

const file = JSON.parse(readFileSync(new URL('./test-vectors/aes_gcm_test.json', import.meta.url), 'utf8')) as { testGroups: WycheproofGroup[] };
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

const main = file.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128);
const mainTests = main.flatMap((g) => g.tests);

describe('AES-256-GCM against Wycheproof (keySize 256, ivSize 96, tagSize 128)', () => {
  it('has the expected group', () => {
    expect(mainTests.length).toBe(66);
  });

  for (const t of mainTests) {
    it(`tcId ${t.tcId} (${t.result}) ${t.comment}`, () => {
      const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad, t.msg, t.ct, t.tag].map(hex) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
      if (t.result === 'valid') {
        const out = gcmEncrypt(key, iv, msg, aad);
        expect(out.ciphertext.toString('hex')).toBe(t.ct);
        expect(out.tag.toString('hex')).toBe(t.tag);
        expect(gcmDecrypt(key, iv, ct, tag, aad).toString('hex')).toBe(t.msg);
      } else {
        // Invalid vectors: decryption must fail (wrapper may refuse oddly sized input outright).
        expect(() => gcmDecrypt(key, iv, ct, tag, aad)).toThrow();
        if (tag.length === 16) expect(() => gcmDecrypt(key, iv, ct, tag, aad)).toThrow(DecryptError);
      }
    });
  }
});

describe('AES-GCM wrapper rejects other parameters', () => {
  const others = file.testGroups.filter((g) => !(g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128));

  it('rejects every other IV size and key size from the Wycheproof file', () => {
    let n = 0;
    for (const g of others) {
      for (const t of g.tests) {
        const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad, t.msg, t.ct, t.tag].map(hex) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
        expect(() => gcmEncrypt(key, iv, msg, aad)).toThrow(RangeError);
        expect(() => gcmDecrypt(key, iv, ct, tag, aad)).toThrow(RangeError);
        n++;
      }
    }
    expect(n).toBe(316 - 66);
  });

  it('rejects truncated or long tags and bad IV lengths', () => {
    const key = Buffer.alloc(32, 7);
    const iv = Buffer.alloc(12, 1);
    const { ciphertext, tag } = gcmEncrypt(key, iv, Buffer.from('hello'), Buffer.alloc(0));
    expect(() => gcmDecrypt(key, iv, ciphertext, tag.subarray(0, 12), Buffer.alloc(0))).toThrow(RangeError);
    expect(() => gcmDecrypt(key, iv, ciphertext, Buffer.concat([tag, Buffer.alloc(1)]), Buffer.alloc(0))).toThrow(RangeError);
    for (const n of [0, 8, 11, 13, 16]) expect(() => gcmEncrypt(key, Buffer.alloc(n), Buffer.alloc(1), Buffer.alloc(0))).toThrow(RangeError);
    for (const n of [16, 24, 31, 33]) expect(() => gcmEncrypt(Buffer.alloc(n), iv, Buffer.alloc(1), Buffer.alloc(0))).toThrow(RangeError);
  });

  it('DecryptError message carries no key or plaintext', () => {
    const key = Buffer.alloc(32, 0xab);
    const iv = Buffer.alloc(12, 1);
    const pt = Buffer.from('secret plaintext');
    const { ciphertext, tag } = gcmEncrypt(key, iv, pt, Buffer.alloc(0));
    tag[0]! ^= 1;
    try {
      gcmDecrypt(key, iv, ciphertext, tag, Buffer.alloc(0));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecryptError);
      const m = (e as Error).message;
      expect(m).not.toContain('secret');
      expect(m).not.toContain(key.toString('hex').slice(0, 8));
      expect(m).not.toContain(key.toString('base64').slice(0, 8));
    }
  });
});
