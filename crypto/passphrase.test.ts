import { afterEach, describe, expect, it } from 'vitest';
import { WeakKdfParamsError } from './errors.js';
import { derivePassphraseKey, kdfStats, MIN_KDF_PARAMS, newKdfParams, setKdfConcurrency, validateKdfParams, type KdfParams } from './passphrase.js';

const salt = Buffer.alloc(16, 9).toString('base64');
const min: KdfParams = { alg: 'argon2id', ...MIN_KDF_PARAMS, salt };

describe('KDF parameter validation', () => {
  it('MIN_KDF_PARAMS is frozen at the design floor', () => {
    expect(MIN_KDF_PARAMS).toEqual({ memoryKiB: 65536, iterations: 3, parallelism: 1 });
    expect(Object.isFrozen(MIN_KDF_PARAMS)).toBe(true);
  });

  it('newKdfParams is valid, at or above the minimum, with a random 16-byte salt', () => {
    const p = newKdfParams();
    expect(p.alg).toBe('argon2id');
    expect(p.memoryKiB).toBeGreaterThanOrEqual(MIN_KDF_PARAMS.memoryKiB);
    expect(p.iterations).toBeGreaterThanOrEqual(MIN_KDF_PARAMS.iterations);
    expect(p.parallelism).toBeGreaterThanOrEqual(MIN_KDF_PARAMS.parallelism);
    expect(validateKdfParams(p).length).toBe(16);
    expect(newKdfParams().salt).not.toBe(p.salt);
  });

  const bad: Array<[string, unknown]> = [
    ['memory below minimum', { ...min, memoryKiB: 65535 }],
    ['iterations below minimum', { ...min, iterations: 2 }],
    ['parallelism below minimum', { ...min, parallelism: 0 }],
    ['memory above 1 GiB', { ...min, memoryKiB: 1024 * 1024 + 1 }],
    ['absurd iterations', { ...min, iterations: 1000 }],
    ['absurd parallelism', { ...min, parallelism: 64 }],
    ['non-integer memory', { ...min, memoryKiB: 65536.5 }],
    ['string iterations', { ...min, iterations: '3' }],
    ['NaN parallelism', { ...min, parallelism: Number.NaN }],
    ['wrong alg', { ...min, alg: 'argon2i' }],
    ['pbkdf2', { ...min, alg: 'pbkdf2' }],
    ['short salt', { ...min, salt: Buffer.alloc(15).toString('base64') }],
    ['long salt', { ...min, salt: Buffer.alloc(17).toString('base64') }],
    ['empty salt', { ...min, salt: '' }],
    ['missing salt', { ...min, salt: undefined }],
    ['non-base64 salt', { ...min, salt: '!!!!!!!!!!!!!!!!!!!!!!!!' }],
    ['non-canonical salt', { ...min, salt: salt.replace(/==$/, '') }],
    ['null params', null],
  ];
  for (const [name, params] of bad) {
    it(`rejects ${name}`, async () => {
      await expect(derivePassphraseKey('correct horse', params as KdfParams)).rejects.toThrow(WeakKdfParamsError);
    });
  }
});

describe('derivePassphraseKey', () => {
  afterEach(() => setKdfConcurrency(2));

  it('is deterministic, salt- and passphrase-sensitive, and NFC-normalised', async () => {
    const a = await derivePassphraseKey('correct horse', min);
    const b = await derivePassphraseKey('correct horse', min);
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(true);
    const otherSalt = await derivePassphraseKey('correct horse', { ...min, salt: Buffer.alloc(16, 8).toString('base64') });
    expect(a.equals(otherSalt)).toBe(false);
    const otherPw = await derivePassphraseKey('correct horsf', min);
    expect(a.equals(otherPw)).toBe(false);
    const nfc = await derivePassphraseKey('caf\u00e9', min);
    const nfd = await derivePassphraseKey('cafe\u0301', min);
    expect(nfc.equals(nfd)).toBe(true);
    await expect(derivePassphraseKey('', min)).rejects.toThrow();
  });

  it('runs at most N derivations at once and queues the rest FIFO', async () => {
    for (const n of [1, 2, 3]) {
      setKdfConcurrency(n);
      let maxActive = 0;
      let maxQueued = 0;
      const timer = setInterval(() => {
        const s = kdfStats();
        maxActive = Math.max(maxActive, s.active);
        maxQueued = Math.max(maxQueued, s.queued);
      }, 2);
      const order: number[] = [];
      const jobs = Array.from({ length: n + 3 }, (_, i) => derivePassphraseKey(`pw${i}`, min).then(() => order.push(i)));
      // Synchronously after queueing: exactly n admitted, the rest waiting.
      expect(kdfStats()).toEqual({ max: n, active: n, queued: 3 });
      await Promise.all(jobs);
      clearInterval(timer);
      expect(maxActive).toBe(n);
      expect(maxQueued).toBeGreaterThan(0);
      expect(kdfStats()).toEqual({ max: n, active: 0, queued: 0 });
      if (n === 1) expect(order).toEqual([0, 1, 2, 3]);
    }
  });

  it('raising the cap admits queued derivations', async () => {
    setKdfConcurrency(1);
    const jobs = [0, 1, 2].map((i) => derivePassphraseKey(`p${i}`, min));
    expect(kdfStats().active).toBe(1);
    setKdfConcurrency(3);
    expect(kdfStats()).toMatchObject({ active: 3, queued: 0 });
    await Promise.all(jobs);
    expect(() => setKdfConcurrency(0)).toThrow(RangeError);
  });

  it('releases the slot when a derivation fails validation or errors', async () => {
    setKdfConcurrency(1);
    await expect(derivePassphraseKey('x', { ...min, iterations: 1 })).rejects.toThrow(WeakKdfParamsError);
    expect(kdfStats().active).toBe(0);
  });
});
