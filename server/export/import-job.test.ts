import { describe, expect, it } from 'vitest';
import { generateAgeIdentity } from '../../crypto/index.js';
import { AppError } from '../errors.js';
import { ageKeyFromField } from './import-job.js';

describe('ageKeyFromField', () => {
  it('reads a passphrase field as it is', () => {
    expect(ageKeyFromField('passphrase', ' a passphrase ')).toEqual({ passphrase: ' a passphrase ' });
  });

  it('takes the key line out of an age identity file', async () => {
    const { identity } = await generateAgeIdentity();
    const file = `# created: 2026-01-01T00:00:00Z\r\n# public key: age1...\r\n  ${identity}  \r\n`;
    expect(ageKeyFromField('identity', file)).toEqual({ identity });
  });

  it('names no key for other fields and empty values', () => {
    expect(ageKeyFromField('file', 'x')).toBeUndefined();
    expect(ageKeyFromField('passphrase', '')).toBeUndefined();
    expect(ageKeyFromField('identity', '')).toBeUndefined();
  });

  it('refuses an identity that is not an age X25519 identity with a 400', () => {
    for (const value of ['not a key', 'AGE-SECRET-KEY-1NOTBECH32']) {
      let err: unknown;
      try {
        ageKeyFromField('identity', value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ statusCode: 400, code: 'invalid_identity' });
    }
  });
});
