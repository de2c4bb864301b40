import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkKey, checkPrefix, type ObjectStore } from './object-store.js';

/** Disk reads and buffered writes in 1 MiB (16 STREAM segments per syscall). */
const IO_CHUNK = 1024 * 1024;
const TEMP_PREFIX = '.upload-';
const PROBE_BYTE = Buffer.from([0]);

/**
 * Objects as files under `root`, written to a temporary name beside their place and renamed
 * there once complete, so that a crash never leaves a partial object under a real name.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  #path(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  createWriteStream(key: string): Writable {
    const final = this.#path(key);
    const temp = path.join(path.dirname(final), `${TEMP_PREFIX}${randomUUID()}`);
    let file: ReturnType<typeof createWriteStream> | undefined;
    const opened = mkdir(path.dirname(final), { recursive: true, mode: 0o700 }).then(() => {
      file = createWriteStream(temp, { mode: 0o600, flags: 'wx', highWaterMark: IO_CHUNK });
      // Any error of the file, also one after `open` (a full disk: ENOSPC, EIO), fails the
      // upload: a write waiting for 'drain' would otherwise wait forever, and the request with it.
      file.on('error', (err) => out.destroy(err));
      return new Promise<void>((resolve, reject) => {
        file!.once('open', () => resolve());
        file!.once('error', reject);
      });
    });
    const out = new Writable({
      highWaterMark: IO_CHUNK,
      write(chunk: Buffer, _enc, cb) {
        opened.then(() => {
          if (file!.write(chunk)) cb();
          else file!.once('drain', () => cb());
        }, cb);
      },
      final(cb) {
        opened
          .then(() => new Promise<void>((resolve, reject) => file!.end((err?: Error | null) => (err ? reject(err) : resolve()))))
          .then(() => rename(temp, final))
          .then(() => cb(), cb);
      },
      // Reports the error only once the temporary file is gone, so that whoever awaits the
      // write (a pipeline) finds nothing left behind.
      destroy(err, cb) {
        file?.destroy();
        opened
          .catch(() => {})
          .then(() => {
            // Destroyed while the folder was being made: the file opened since then is closed too.
            file?.destroy();
            return rm(temp, { force: true });
          })
          .then(
            () => cb(err),
            () => cb(err),
          );
      },
    });
    return out;
  }

  createReadStream(key: string): Readable {
    return createReadStream(this.#path(key), { highWaterMark: IO_CHUNK });
  }

  async readRange(key: string, start: number, end: number): Promise<Buffer> {
    const fh = await open(this.#path(key), 'r');
    try {
      const out = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await fh.read(out, got, out.length - got, start + got);
        if (bytesRead === 0) throw new Error('object shorter than the range read');
        got += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async size(key: string): Promise<number | null> {
    return stat(this.#path(key)).then(
      (s) => s.size,
      () => null,
    );
  }

  async delete(key: string): Promise<void> {
    const p = this.#path(key);
    await rm(p, { force: true });
    // Empty per-user folders go with their last object; a folder still in use stays.
    await rm(path.dirname(p), { recursive: false }).catch(() => {});
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.#path(checkPrefix(prefix).slice(0, -1)), { recursive: true, force: true });
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number; modified: Date }> {
    const base = prefix === '' ? this.root : this.#path(checkPrefix(prefix).slice(0, -1));
    const walk = async function* (dir: string, rel: string): AsyncGenerator<{ key: string; size: number; modified: Date }> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(dir, e.name);
        const k = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) yield* walk(p, k);
        // Writes in progress (and readiness probes) are not objects yet.
        else if (e.isFile() && !e.name.startsWith(TEMP_PREFIX)) {
          const s = await stat(p).catch(() => null);
          if (s) yield { key: k, size: s.size, modified: s.mtime };
        }
      }
    };
    yield* walk(base, prefix.replace(/\/$/, ''));
  }

  /** Leftovers of writes cut off by a crash (only this process writes under `root`). */
  async sweepTemps(): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.startsWith(TEMP_PREFIX)) await rm(p, { force: true });
      }
    };
    await walk(this.root);
  }

  /**
   * The root is a folder this process can write a file in (before the first object it may not
   * exist yet: then the folder it will be made in). A permission check is not enough: a full
   * disk passes it, so a one-byte file is written there the way objects are, and removed.
   * Errors with the system's code (EACCES, EROFS, ENOSPC, ...).
   */
  async check(): Promise<void> {
    let dir = this.root;
    for (;;) {
      const s = await stat(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT' || path.dirname(dir) === dir) throw e;
        return null;
      });
      if (s) {
        if (!s.isDirectory()) throw Object.assign(new Error(`not a directory: ${dir}`), { code: 'ENOTDIR' });
        return writeProbe(dir);
      }
      dir = path.dirname(dir);
    }
  }

  async close(): Promise<void> {}
}

/** Writes and removes one byte in `dir`, under a temporary name that listings skip. */
async function writeProbe(dir: string): Promise<void> {
  const probe = path.join(dir, `${TEMP_PREFIX}probe-${randomUUID()}`);
  try {
    await pipeline(Readable.from([PROBE_BYTE]), createWriteStream(probe, { mode: 0o600, flags: 'wx' }));
  } finally {
    await rm(probe, { force: true });
  }
}
