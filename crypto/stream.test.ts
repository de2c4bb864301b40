import { hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { gcmEncrypt } from './aes-gcm.js';
import { DecryptError } from './errors.js';
import { randomKey } from './keys.js';
import { createDecryptStream, createEncryptStream, encryptedSize, SEGMENT_SIZE, STREAM_HEADER_BYTES } from './stream.js';

const SEG = SEGMENT_SIZE;
const ENC_SEG = SEG + 16;

/** Feeds `input` in chunks of `chunk` bytes through `t`, returning the concatenated output. */
async function run(t: NodeJS.ReadWriteStream, input: Buffer, chunk = 10_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  await pipeline(
    Readable.from(pieces),
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

const encrypt = (key: Buffer, pt: Buffer, aad = 'v1|u|files|f1', chunk?: number) => run(createEncryptStream(key, aad), pt, chunk);
const decrypt = (key: Buffer, ct: Buffer, aad = 'v1|u|files|f1', chunk?: number) => run(createDecryptStream(key, aad), ct, chunk);

/** Splits a ciphertext into header and sealed segments. */
function split(ct: Buffer): { header: Buffer; segs: Buffer[] } {
  const segs: Buffer[] = [];
  for (let i = STREAM_HEADER_BYTES; i < ct.length; i += ENC_SEG) segs.push(ct.subarray(i, i + ENC_SEG));
  return { header: ct.subarray(0, STREAM_HEADER_BYTES), segs };
}

describe('STREAM segmented encryption', () => {
  const key = randomKey();

  for (const size of [0, 1, 65535, 65536, 65537, 3 * 65536 + 5]) {
    it(`round-trips ${size} bytes with exact encryptedSize`, async () => {
      const pt = randomBytes(size);
      for (const chunk of [1000, 65536, 100_003]) {
        const ct = await encrypt(key, pt, undefined, chunk);
        expect(ct.length).toBe(encryptedSize(size));
        // Decrypt with chunking unrelated to segment boundaries.
        for (const dchunk of [7, 65552, 99_999]) {
          if (dchunk === 7 && size > 70_000) continue; // keep the test fast
          expect((await decrypt(key, ct, undefined, dchunk)).equals(pt)).toBe(true);
        }
      }
    });
  }

  it('encryptedSize formula', () => {
    expect(encryptedSize(0)).toBe(17 + 16);
    expect(encryptedSize(1)).toBe(17 + 1 + 16);
    expect(encryptedSize(SEG)).toBe(17 + SEG + 16);
    expect(encryptedSize(SEG + 1)).toBe(17 + SEG + 1 + 32);
  });

  it('fresh salt per stream: same input encrypts differently', async () => {
    const pt = randomBytes(100);
    expect((await encrypt(key, pt)).equals(await encrypt(key, pt))).toBe(false);
  });

  describe('tampering is detected', () => {
    const pt = randomBytes(3 * SEG + 5);
    const ctP = encrypt(key, pt);
    const fails = async (ct: Buffer, k = key, aad?: string) => {
      await expect(decrypt(k, ct, aad)).rejects.toBeInstanceOf(DecryptError);
    };

    it('wrong key, wrong aad', async () => {
      const ct = await ctP;
      await fails(ct, randomKey());
      await fails(ct, key, 'v1|u|files|f2');
    });

    it('truncation at every segment boundary and mid-segment', async () => {
      const ct = await ctP;
      const { header, segs } = split(ct);
      expect(segs.length).toBe(4);
      for (let n = 0; n < segs.length; n++) await fails(Buffer.concat([header, ...segs.slice(0, n)]));
      for (const cut of [0, 5, STREAM_HEADER_BYTES - 1, STREAM_HEADER_BYTES + 10, ct.length - 1, ct.length - 17]) {
        await fails(ct.subarray(0, cut));
      }
    });

    it('dropped, swapped and duplicated segments', async () => {
      const { header, segs } = split(await ctP);
      const [s0, s1, s2, s3] = segs as [Buffer, Buffer, Buffer, Buffer];
      await fails(Buffer.concat([header, s0, s2, s3])); // drop middle
      await fails(Buffer.concat([header, s1, s2, s3])); // drop first
      await fails(Buffer.concat([header, s1, s0, s2, s3])); // swap
      await fails(Buffer.concat([header, s0, s2, s1, s3])); // swap
      await fails(Buffer.concat([header, s0, s1, s1, s2, s3])); // duplicate
      await fails(Buffer.concat([header, s0, s1, s2, s3, s3])); // duplicate last
      await fails(Buffer.concat([header, s0, s1, s2, s2])); // last replaced by a middle segment
    });

    it('segments from another stream under the same key do not splice in', async () => {
      const a = split(await ctP);
      const b = split(await encrypt(key, pt));
      await fails(Buffer.concat([a.header, b.segs[0]!, ...a.segs.slice(1)]));
    });

    it('appended bytes after the last segment', async () => {
      const ct = await ctP;
      for (const extra of [Buffer.alloc(1), Buffer.alloc(16), randomBytes(ENC_SEG), randomBytes(ENC_SEG + 3)]) {
        await fails(Buffer.concat([ct, extra]));
      }
      const empty = await encrypt(key, Buffer.alloc(0));
      await fails(Buffer.concat([empty, empty.subarray(STREAM_HEADER_BYTES)]));
    });

    it('a flipped byte anywhere (header, each segment body and tag)', async () => {
      const ct = await ctP;
      const positions = [0, 1, 16, 17, 100, 17 + SEG - 1, 17 + SEG, 17 + SEG + 15, 17 + ENC_SEG, 17 + 2 * ENC_SEG + 5, ct.length - 17, ct.length - 1];
      for (const p of positions) {
        const bad = Buffer.from(ct);
        bad[p]! ^= 0x01;
        await fails(bad);
      }
      // Every byte of a small stream.
      const small = await encrypt(key, Buffer.from('tiny file'));
      for (let p = 0; p < small.length; p++) {
        const bad = Buffer.from(small);
        bad[p]! ^= 0x80;
        await fails(bad);
      }
    });
  });

  it('never emits plaintext of a segment whose tag fails', async () => {
    const pt = randomBytes(2 * SEG + 10);
    const ct = await encrypt(key, pt);
    const bad = Buffer.from(ct);
    bad[STREAM_HEADER_BYTES + ENC_SEG + 5]! ^= 1; // inside segment 1
    const got: Buffer[] = [];
    const dec = createDecryptStream(key, 'v1|u|files|f1');
    dec.on('data', (c: Buffer) => got.push(c));
    await expect(pipeline(Readable.from([bad]), dec)).rejects.toBeInstanceOf(DecryptError);
    // Only segment 0 (verified) came out.
    const out = Buffer.concat(got);
    expect(out.length).toBe(SEG);
    expect(out.equals(pt.subarray(0, SEG))).toBe(true);
  });

  it('rejects an unknown version byte', async () => {
    const ct = await encrypt(key, Buffer.from('x'));
    ct[0] = 2;
    await expect(decrypt(key, ct)).rejects.toThrow(/unknown stream version/);
  });

  it('matches the documented format (hand-built stream with an empty last segment decrypts)', async () => {
    // Independent construction: segKey = HKDF(fileKey, salt, "cv1|stream"); nonce = 11-byte BE
    // index || last; AAD = aad | index | last. [full non-last][empty last] is allowed.
    const aad = 'v1|u|files|f1';
    const salt = randomBytes(16);
    const segKey = Buffer.from(hkdfSync('sha256', key, salt, Buffer.from('cv1|stream'), 32));
    const seal = (i: number, last: boolean, pt: Buffer) => {
      const nonce = Buffer.alloc(12);
      nonce.writeUIntBE(i, 5, 6);
      nonce[11] = last ? 1 : 0;
      const { ciphertext, tag } = gcmEncrypt(segKey, nonce, pt, Buffer.from(`${aad}|${i}|${last ? 1 : 0}`));
      return Buffer.concat([ciphertext, tag]);
    };
    const pt = randomBytes(SEG);
    const ct = Buffer.concat([Buffer.from([1]), salt, seal(0, false, pt), seal(1, true, Buffer.alloc(0))]);
    expect((await decrypt(key, ct, aad)).equals(pt)).toBe(true);
    // Without the empty last segment it is a truncated stream.
    await expect(decrypt(key, ct.subarray(0, ct.length - 16), aad)).rejects.toBeInstanceOf(DecryptError);
    // And the encryptor's own output for a 0-byte file is header + one empty last segment.
    const empty = await encrypt(key, Buffer.alloc(0));
    expect(empty.length).toBe(STREAM_HEADER_BYTES + 16);
    expect((await decrypt(key, empty)).length).toBe(0);
  });
});
