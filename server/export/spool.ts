import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, randomKey } from '../../crypto/index.js';

const AAD = 'v1|export-spool';

/**
 * A tar header needs an entry's size before its bytes, and a JSON-lines section can be larger
 * than memory. So lines go to a temporary file first, encrypted under a key that exists only in
 * this object: plaintext never reaches the disk, and a crash leaves only unreadable bytes.
 */
export class EncryptedSpool {
  readonly #key = randomKey();
  readonly #path: string;
  #size = 0;
  #out: ReturnType<typeof createEncryptStream> | undefined;
  #done: Promise<void> | undefined;

  constructor(dir: string) {
    this.#path = path.join(dir, `.export-spool-${randomUUID()}`);
  }

  async open(): Promise<void> {
    await mkdir(path.dirname(this.#path), { recursive: true, mode: 0o700 });
    this.#out = createEncryptStream(this.#key, AAD);
    this.#done = pipeline(this.#out, createWriteStream(this.#path, { mode: 0o600, flags: 'wx' }));
  }

  async write(chunk: Buffer): Promise<void> {
    this.#size += chunk.length;
    if (!this.#out!.write(chunk)) await once(this.#out!, 'drain');
  }

  get size(): number {
    return this.#size;
  }

  async close(): Promise<void> {
    this.#out!.end();
    await this.#done;
  }

  read(): Readable {
    const src = createReadStream(this.#path, { highWaterMark: 256 * 1024 });
    const dec = createDecryptStream(this.#key, AAD);
    src.on('error', (err) => dec.destroy(err));
    return src.pipe(dec);
  }

  async dispose(): Promise<void> {
    this.#out?.destroy();
    await this.#done?.catch(() => {});
    await rm(this.#path, { force: true });
  }
}
