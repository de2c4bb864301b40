import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmEncrypt } from './aes-gcm.js';
import { openRecord, recordAad, sealRecord, RECORD_OVERHEAD } from './envelope.js';
import { DecryptError } from './errors.js';
import { deriveRowKey, deriveSubkey, randomKey } from './keys.js';

const base = { userId: 'u-123', table: 'items', rowId: 'r-456', version: 3 };

describe('recordAad', () => {
  it('formats the canonical AAD', () => {
    expect(recordAad(base)).toBe('v1|u-123|items|r-456|3');
  });
  it('rejects separators and bad versions (AAD ambiguity)', () => {
    expect(() => recordAad({ ...base, userId: 'a|b' })).toThrow();
    expect(() => recordAad({ ...base, table: '' })).toThrow();
    expect(() => recordAad({ ...base, version: -1 })).toThrow();
    expect(() => recordAad({ ...base, version: 1.5 })).toThrow();
  });
});

describe('sealRecord / openRecord', () => {
  const vk = randomKey();
  const rowKey = deriveRowKey(deriveSubkey(vk, 'items'), base.rowId);
  const aad = recordAad(base);

  it('round-trips, including empty plaintext, with the documented layout', () => {
    for (const pt of [Buffer.alloc(0), Buffer.from('hello'), randomKey()]) {
      const blob = sealRecord(rowKey, pt, aad);
      expect(blob.length).toBe(RECORD_OVERHEAD + pt.length);
      expect(blob[0]).toBe(0x01);
      expect(openRecord(rowKey, blob, aad).equals(pt)).toBe(true);
    }
  });

  it('uses a fresh nonce each time', () => {
    const a = sealRecord(rowKey, Buffer.from('x'), aad);
    const b = sealRecord(rowKey, Buffer.from('x'), aad);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
  });

  it('fails on every single flipped byte', () => {
    const blob = sealRecord(rowKey, Buffer.from('small record'), aad);
    for (let i = 0; i < blob.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(blob);
        bad[i]! ^= mask;
        expect(() => openRecord(rowKey, bad, aad), `byte ${i} mask ${mask}`).toThrow(DecryptError);
      }
    }
  });

  it('fails on truncation, extension and unknown versions', () => {
    const blob = sealRecord(rowKey, Buffer.from('small record'), aad);
    for (let n = 0; n < blob.length; n++) expect(() => openRecord(rowKey, blob.subarray(0, n), aad)).toThrow(DecryptError);
    expect(() => openRecord(rowKey, Buffer.concat([blob, Buffer.alloc(1)]), aad)).toThrow(DecryptError);
    const v2 = Buffer.from(blob);
    v2[0] = 0x02;
    expect(() => openRecord(rowKey, v2, aad)).toThrow(/unknown record version/);
  });

  it('fails when any AAD field changes', () => {
    const blob = sealRecord(rowKey, Buffer.from('row'), aad);
    for (const changed of [
      { ...base, userId: 'u-124' },
      { ...base, table: 'files' },
      { ...base, rowId: 'r-457' },
      { ...base, version: 4 },
    ]) {
      expect(() => openRecord(rowKey, blob, recordAad(changed))).toThrow(DecryptError);
    }
  });

  it("fails under another row's key and another subkey", () => {
    const blob = sealRecord(rowKey, Buffer.from('row'), aad);
    const other = deriveRowKey(deriveSubkey(vk, 'items'), 'r-457');
    expect(() => openRecord(other, blob, aad)).toThrow(DecryptError);
    const otherPurpose = deriveRowKey(deriveSubkey(vk, 'chats'), base.rowId);
    expect(() => openRecord(otherPurpose, blob, aad)).toThrow(DecryptError);
  });

  it('checks the commitment: a blob whose GCM part is valid under the opening key still fails', () => {
    // Re-derive the documented sub-keys independently of the implementation.
    const sub = (k: Buffer, info: string) => Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), Buffer.from(info), 32));
    const keyA = randomKey();
    const keyB = randomKey();
    const blobA = sealRecord(keyA, Buffer.from('attacker chosen'), aad);
    const nonce = blobA.subarray(1, 13);
    // Re-encrypt under B's encryption key with the same nonce, keep A's commitment.
    const { ciphertext, tag } = gcmEncrypt(sub(keyB, 'cv1|enc'), nonce, Buffer.from('attacker chosen'), Buffer.from(aad));
    const forged = Buffer.concat([blobA.subarray(0, 45), ciphertext, tag]);
    expect(() => openRecord(keyB, forged, aad)).toThrow(/commitment/);
    // Sanity: with B's commitment the same bytes open, so the commitment alone made the difference.
    const commitB = createHmac('sha256', sub(keyB, 'cv1|commit')).update(nonce).update(Buffer.from(aad)).digest();
    const fixed = Buffer.concat([blobA.subarray(0, 13), commitB, ciphertext, tag]);
    expect(openRecord(keyB, fixed, aad).toString()).toBe('attacker chosen');
  });

  it('rejects keys of the wrong size as programming errors', () => {
    expect(() => sealRecord(Buffer.alloc(16), Buffer.alloc(1), aad)).toThrow(RangeError);
  });
});
