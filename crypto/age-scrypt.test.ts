import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectLoopStayedFree, longestStall } from '../test-support/crypto/stall.js';
import { AGE_SCRYPT_MAX_LOG_N, AgeWorkFactorError, ageDecryptStream, ageEncryptStream } from './age.js';
import { derivePassphraseKey, kdfStats, newKdfParams, setKdfConcurrency } from './passphrase.js';
import { craftedScryptAge } from '../test-support/crypto/age-header.js';

const collect = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const encrypt = async (plain: Buffer, passphrase: string) => collect(await ageEncryptStream(Readable.from([plain]), { passphrase }));
const decrypt = async (file: Buffer, passphrase: string) => collect(await ageDecryptStream(Readable.from([file]), { passphrase }));

/** The `age` tool reads passphrases from its terminal only; `script` gives it one. */
function ageTool(args: string, typed: string): { status: number | null; out: string } {
  const r = spawnSync('script', ['-qec', `age ${args}`, '/dev/null'], { input: typed, timeout: 60_000 });
  return { status: r.status, out: r.stdout.toString() };
}

describe('age scrypt recipient off the event loop', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'cv-age-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });
  afterEach(() => setKdfConcurrency(2));

  it('writes files the age tool and the age-encryption library open, at work factor 2^18', async () => {
    const plain = Buffer.from('passphrase export · ünïcode\n');
    const file = await encrypt(plain, 'correct horse battery');
    expect(file.toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 18\n/);
    const lib = new Decrypter();
    lib.addPassphrase('correct horse battery');
    expect(Buffer.from(await lib.decrypt(file))).toEqual(plain);

    await writeFile(path.join(work, 'ours.age'), file);
    const tool = ageTool(`-d -o ${path.join(work, 'ours.txt')} ${path.join(work, 'ours.age')}`, 'correct horse battery\n');
    expect(tool.status).toBe(0);
    expect(await readFile(path.join(work, 'ours.txt'))).toEqual(plain);
  });

  it('opens files written by the age tool and by the library, and refuses a wrong passphrase', async () => {
    await writeFile(path.join(work, 'plain.txt'), 'made by age\n');
    const tool = ageTool(`-p -o ${path.join(work, 'tool.age')} ${path.join(work, 'plain.txt')}`, 'pass from the tool\npass from the tool\n');
    expect(tool.status).toBe(0);
    const toolFile = await readFile(path.join(work, 'tool.age'));
    expect((await decrypt(toolFile, 'pass from the tool')).toString()).toBe('made by age\n');

    const e = new Encrypter();
    e.setPassphrase('library pass');
    e.setScryptWorkFactor(12);
    const libFile = Buffer.from(await e.encrypt('made by the library'));
    expect((await decrypt(libFile, 'library pass')).toString()).toBe('made by the library');
    await expect(decrypt(libFile, 'not the pass')).rejects.toThrow(/no identity matched/);
  });

  it('refuses a work factor above the maximum before deriving anything', async () => {
    setKdfConcurrency(1);
    for (const logN of [AGE_SCRYPT_MAX_LOG_N + 1, 30, 64, 999]) {
      // The library would have computed 2^21 (and refused only above 2^20); here nothing starts.
      const err = await decrypt(craftedScryptAge(logN), 'x').then(
        () => 'opened',
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AgeWorkFactorError);
      expect(kdfStats()).toEqual({ max: 1, active: 0, queued: 0 });
    }
  });

  it('keeps the event loop free while deriving at the highest accepted work factor', async () => {
    // Today's library computes this synchronously: a stall of seconds. Native scrypt runs on the
    // thread pool, so the loop stays free for other users' requests.
    const m = await longestStall(() =>
      decrypt(craftedScryptAge(AGE_SCRYPT_MAX_LOG_N), 'a guess').then(
        () => 'opened',
        (err: unknown) => (err as Error).message,
      ),
    );
    expect(m.result).toMatch(/no identity matched/);
    expectLoopStayedFree(m);
  });

  it('shares the concurrency cap with Argon2id', async () => {
    setKdfConcurrency(1);
    let maxActive = 0;
    let sawQueued = false;
    const probe = setInterval(() => {
      const s = kdfStats();
      maxActive = Math.max(maxActive, s.active);
      if (s.queued > 0) sawQueued = true;
    }, 2);
    try {
      await Promise.all([encrypt(Buffer.from('a'), 'first pass'), derivePassphraseKey('second pass', newKdfParams())]);
    } finally {
      clearInterval(probe);
    }
    expect(maxActive).toBe(1);
    expect(sawQueued).toBe(true);
    expect(kdfStats()).toEqual({ max: 1, active: 0, queued: 0 });
  });
});
