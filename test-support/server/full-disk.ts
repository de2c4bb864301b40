import type * as NodeFs from 'node:fs';

/** When the disk fills: after this many bytes of `.upload-*` writes (Infinity: never). */
export interface FullDisk {
  fullAfterBytes: number;
  written: number;
}

/**
 * `node:fs` for `vi.mock`, with a disk that fills up mid-write: the object store's temporary
 * `.upload-*` files get Node's own file stream whose writes, once `disk.fullAfterBytes` have gone
 * out, go to /dev/full, so the kernel's own ENOSPC arrives after `open`, on a later write, the way
 * a full disk reports it (mounting a small tmpfs would need root).
 */
export function fullDiskFs(fs: typeof NodeFs, disk: FullDisk): typeof NodeFs {
  const full = fs.openSync('/dev/full', 'w');
  const write = (fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: (err: Error | null, n?: number) => void) => {
    const room = disk.written < disk.fullAfterBytes;
    disk.written += len;
    fs.write(room ? fd : full, buf, off, len, room ? pos : null, cb);
  };
  const createWriteStream: typeof fs.createWriteStream = (file, opts) =>
    String(file).includes('.upload-') && Number.isFinite(disk.fullAfterBytes)
      ? fs.createWriteStream(file, { ...(opts as object), fs: { open: fs.open, close: fs.close, write } })
      : fs.createWriteStream(file, opts);
  return { ...fs, default: { ...fs, createWriteStream }, createWriteStream } as typeof NodeFs;
}
