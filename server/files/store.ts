import type { Readable, Writable } from 'node:stream';
import type { ObjectStore } from '../storage/object-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An upload being written under its file's name: kept once its row exists, or discarded. */
export interface PendingFile {
  readonly key: string;
  readonly stream: Writable;
}

/**
 * Encrypted file blobs as objects `<user id>/<file id>` in the configured store (the disk under
 * `DATA_DIR/files`, or the bucket's `files/` prefix). Only ciphertext is written; names come from
 * ids the server made, never from user input.
 */
export class FileStore {
  constructor(private readonly objects: ObjectStore) {}

  #user(userId: string): string {
    if (!UUID.test(userId)) throw new Error('invalid user id');
    return userId;
  }

  keyOf(userId: string, fileId: string): string {
    if (!UUID.test(fileId)) throw new Error('invalid file id');
    return `${this.#user(userId)}/${fileId}`;
  }

  /**
   * Where an upload is written: straight under the new file's own (random, fresh) id, so nothing
   * is copied once it is kept. The store makes the object appear only when complete (a rename on
   * disk, a completed multipart upload in S3); the write finishing (its pipeline resolving) means
   * the bytes are stored. A duplicate found afterwards, or a failure, `discard`s it.
   */
  createTemp(userId: string, fileId: string): PendingFile {
    const key = this.keyOf(userId, fileId);
    return { key, stream: this.objects.createWriteStream(key) };
  }

  openTemp(temp: PendingFile): Readable {
    return this.objects.createReadStream(temp.key);
  }

  async discard(temp: PendingFile): Promise<void> {
    if (!temp.stream.writableFinished) temp.stream.destroy();
    await this.objects.delete(temp.key);
  }

  openRead(userId: string, fileId: string): Readable {
    return this.objects.createReadStream(this.keyOf(userId, fileId));
  }

  async size(userId: string, fileId: string): Promise<number | null> {
    return this.objects.size(this.keyOf(userId, fileId));
  }

  async remove(userId: string, fileId: string): Promise<void> {
    await this.objects.delete(this.keyOf(userId, fileId));
  }

  async removeUser(userId: string): Promise<void> {
    await this.objects.deletePrefix(`${this.#user(userId)}/`);
  }
}
