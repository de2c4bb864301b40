import { randomBytes } from 'node:crypto';

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/**
 * A well-formed age v1 file with one scrypt stanza at any work factor, as an attacker would
 * write it: random salt, body and MAC (so no passphrase opens it), and a short payload.
 */
export function craftedScryptAge(logN: number): Buffer {
  const header = `age-encryption.org/v1\n-> scrypt ${b64(randomBytes(16))} ${logN}\n${b64(randomBytes(32))}\n--- ${b64(randomBytes(32))}\n`;
  return Buffer.concat([Buffer.from(header), randomBytes(16), randomBytes(64)]);
}
