import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { Stanza, type Identity, type Recipient } from 'age-encryption';
import { withKdfSlot } from './passphrase.js';

/**
 * age's scrypt recipient (https://age-encryption.org/v1, "The scrypt recipient type"), with the
 * key derived by Node's native scrypt on the libuv thread pool instead of the library's
 * synchronous JavaScript one, which held the event loop for seconds per file and accepted any
 * work factor a crafted header asked for. Only the derivation moves: the stanza format and the
 * file-key wrap (ChaCha20-Poly1305, zero nonce) are age's, and the `age` tool reads and writes
 * the same files (tested both ways).
 */

/** log2 N written for passphrase exports: what the `age` tool writes (N = 2^18, r = 8: 256 MiB). */
export const AGE_SCRYPT_LOG_N = 18;

/**
 * The highest work factor read back: ours plus one doubling of margin (512 MiB, ~1 s of one
 * thread). A header asking for more is refused before any memory is allocated.
 */
export const AGE_SCRYPT_MAX_LOG_N = AGE_SCRYPT_LOG_N + 1;

const LABEL = Buffer.from('age-encryption.org/v1/scrypt');
const R = 8;
const ZERO_NONCE = Buffer.alloc(12);

/** A header's scrypt stanza asks for more work than this server will do. */
export class AgeWorkFactorError extends Error {
  override readonly name = 'AgeWorkFactorError';
  constructor(logN: number) {
    super(`age scrypt work factor 2^${logN} is above the accepted maximum 2^${AGE_SCRYPT_MAX_LOG_N}`);
  }
}

/**
 * scrypt(passphrase, label ‖ salt, N = 2^logN, r = 8, p = 1) → 32 bytes, off the event loop and
 * inside the shared KDF concurrency cap; `maxmem` bounds what OpenSSL may allocate.
 */
async function deriveWrapKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  if (!Number.isInteger(logN) || logN < 1 || logN > AGE_SCRYPT_MAX_LOG_N) throw new AgeWorkFactorError(logN);
  const N = 2 ** logN;
  const maxmem = 128 * R * N + 32 * 1024 * 1024;
  return withKdfSlot(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scrypt(passphrase, Buffer.concat([LABEL, salt]), 32, { N, r: R, p: 1, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Strict unpadded base64 (age rejects padding and non-canonical encodings). */
function fromB64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b64(b) === s ? b : null;
}

/** Encrypts the file key to a passphrase at {@link AGE_SCRYPT_LOG_N}. */
export class NodeScryptRecipient implements Recipient {
  constructor(
    private readonly passphrase: string,
    private readonly logN = AGE_SCRYPT_LOG_N,
  ) {}

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await deriveWrapKey(this.passphrase, salt, this.logN);
    const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
    const body = Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
    key.fill(0);
    return [new Stanza(['scrypt', b64(salt), String(this.logN)], body)];
  }
}

/**
 * Opens a passphrase-encrypted file. Follows age's rules (a scrypt stanza must be the only
 * one; salt exactly 16 bytes; decimal work factor without leading zeros) and refuses a work
 * factor above {@link AGE_SCRYPT_MAX_LOG_N} with {@link AgeWorkFactorError}.
 */
export class NodeScryptIdentity implements Identity {
  constructor(private readonly passphrase: string) {}

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const s = stanzas.find((x) => x.args[0] === 'scrypt');
    if (!s) return null;
    if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
    if (s.args.length !== 3 || !/^[1-9][0-9]*$/.test(s.args[2]!)) throw new Error('invalid scrypt stanza');
    const salt = fromB64(s.args[1]!);
    if (!salt || salt.length !== 16) throw new Error('invalid scrypt stanza');
    if (s.args[2]!.length > 2 || Number(s.args[2]) > AGE_SCRYPT_MAX_LOG_N) throw new AgeWorkFactorError(Number(s.args[2]));
    if (s.body.length !== 32) throw new Error('invalid scrypt stanza');
    const key = await deriveWrapKey(this.passphrase, salt, Number(s.args[2]));
    try {
      const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
      d.setAuthTag(s.body.subarray(16));
      return Buffer.concat([d.update(s.body.subarray(0, 16)), d.final()]);
    } catch {
      return null; // wrong passphrase
    } finally {
      key.fill(0);
    }
  }
}
