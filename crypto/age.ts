import { Readable } from 'node:stream';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { NodeScryptIdentity, NodeScryptRecipient } from './age-scrypt.js';

export { AGE_SCRYPT_LOG_N, AGE_SCRYPT_MAX_LOG_N, AgeWorkFactorError } from './age-scrypt.js';

/**
 * age (https://age-encryption.org/v1) over Node streams, through the `age-encryption` library
 * only: its Encrypter/Decrypter already stream (64 KiB STREAM chunks), so all this module adds
 * is a bridge between Node streams and WHATWG streams that keeps backpressure end to end, and
 * a scrypt recipient whose key derivation runs off the event loop (`age-scrypt.ts`).
 */

export type AgeTarget = { passphrase: string } | { recipient: string };
export type AgeKey = { passphrase: string } | { identity: string };

const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export const isAgeRecipient = (s: string) => RECIPIENT.test(s);
export const isAgeIdentity = (s: string) => IDENTITY.test(s.trim());

/**
 * Pulls from a Node readable only when the web side asks, one chunk at a time. (Readable.toWeb
 * on Node 20 queues by chunk count, which lets a fast source run far ahead of a slow cipher.)
 */
function toWeb(src: AsyncIterable<unknown> & { destroy?: (err?: Error) => void }): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await it.next();
        if (r.done) controller.close();
        else {
          const c = r.value as Uint8Array | string;
          controller.enqueue(typeof c === 'string' ? Buffer.from(c) : c);
        }
      },
      async cancel(reason) {
        src.destroy?.(reason instanceof Error ? reason : undefined);
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function fromWeb(stream: ReadableStream<Uint8Array>): Readable {
  const reader = stream.getReader();
  return Readable.from(
    (async function* () {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          // Noble hands out views of its own buffers: wrap without copying.
          yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    })(),
    { objectMode: false, highWaterMark: 64 * 1024 },
  );
}

/** The age file of `plain`, as a stream. A source error ends the output with that error. */
export async function ageEncryptStream(plain: AsyncIterable<unknown> & { destroy?: (err?: Error) => void }, target: AgeTarget): Promise<Readable> {
  const e = new Encrypter();
  if ('passphrase' in target) {
    e.addRecipient(new NodeScryptRecipient(target.passphrase));
  } else {
    if (!isAgeRecipient(target.recipient)) throw new TypeError('not an age X25519 recipient');
    e.addRecipient(target.recipient);
  }
  return fromWeb(await e.encrypt(toWeb(plain)));
}

/**
 * Opens an age file. Rejects when no key matches (the header is read before this resolves);
 * a truncated or altered payload errors the returned stream instead.
 */
export async function ageDecryptStream(cipher: AsyncIterable<unknown> & { destroy?: (err?: Error) => void }, key: AgeKey): Promise<Readable> {
  const d = new Decrypter();
  if ('passphrase' in key) d.addIdentity(new NodeScryptIdentity(key.passphrase));
  else d.addIdentity(key.identity.trim());
  return fromWeb(await d.decrypt(toWeb(cipher)));
}

/** A fresh X25519 identity (`AGE-SECRET-KEY-1...`) and its recipient (`age1...`). */
export async function generateAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}
