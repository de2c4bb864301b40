import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

/** Disk reads and buffered writes in 1 MiB (16 segments per syscall instead of one 64 KiB read each). */
const IO_CHUNK = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Encrypted file blobs on disk under `<root>/<user id>/<file id>`. Only ciphertext is written
 * here; names come from ids the server made, never from user input.
 */
export class FileStore {
  constructor(private readonly root: string) {}

  #userDir(userId: string): string {
    if (!UUID.test(userId)) throw new Error('invalid user id');
    return path.join(this.root, userId);
  }

  pathOf(userId: string, fileId: string): string {
    if (!UUID.test(fileId)) throw new Error('invalid file id');
    return path.join(this.#userDir(userId), fileId);
  }

  /** A temporary path for an upload in progress; `commit` moves it into place atomically. */
  async createTemp(userId: string): Promise<{ path: string; stream: WriteStream }> {
    const dir = this.#userDir(userId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const p = path.join(dir, `.upload-${randomUUID()}`);
    return { path: p, stream: createWriteStream(p, { mode: 0o600, flags: 'wx', highWaterMark: IO_CHUNK }) };
  }

  async commit(tempPath: string, userId: string, fileId: string): Promise<void> {
    await rename(tempPath, this.pathOf(userId, fileId));
  }

  openRead(userId: string, fileId: string): ReadStream {
    return createReadStream(this.pathOf(userId, fileId), { highWaterMark: IO_CHUNK });
  }

  async size(userId: string, fileId: string): Promise<number> {
    return (await stat(this.pathOf(userId, fileId))).size;
  }

  async remove(p: string): Promise<void> {
    await rm(p, { force: true });
  }

  async removeUser(userId: string): Promise<void> {
    await rm(this.#userDir(userId), { recursive: true, force: true });
  }

  /** Leftovers of uploads interrupted by a crash. */
  async sweepTemps(): Promise<void> {
    const { readdir } = await import('node:fs/promises');
    const users = await readdir(this.root).catch(() => [] as string[]);
    for (const u of users) {
      if (!UUID.test(u)) continue;
      for (const f of await readdir(path.join(this.root, u)).catch(() => [] as string[])) {
        if (f.startsWith('.upload-')) await rm(path.join(this.root, u, f), { force: true });
      }
    }
  }
}
