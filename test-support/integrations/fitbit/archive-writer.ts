/**
 * Tiny archive writers for tests: a zip writer (stored or deflated entries, optional symlink
 * entries, no zip64) and a `.tgz` writer on tar-stream. Tests must not depend on a `zip` binary.
 */
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { buildZip as buildRawZip } from '../zip.js';
import tar from 'tar-stream';

/** One entry of a test archive. */
/** One night as Fitbit's classic JSON export logs it (9 to 10 March 2024, with sleep stages). */
export const SLEEP_LOG_SAMPLE = {
  logId: 1,
  dateOfSleep: '2024-03-10',
  startTime: '2024-03-09T23:30:00.000',
  endTime: '2024-03-10T07:00:00.000',
  minutesAsleep: 420,
  minutesAwake: 30,
  efficiency: 93,
  type: 'stages',
  isMainSleep: true,
  levels: { summary: { deep: { minutes: 80 }, light: { minutes: 250 }, rem: { minutes: 90 }, wake: { minutes: 30 } } },
};

export interface TestEntry {
  name: string;
  data?: string | Buffer;
  /** Write as a symbolic link pointing at `data`. */
  symlink?: boolean;
  /** Zip only: store instead of deflate. */
  store?: boolean;
}

/** Build a zip archive in memory (test sizes only). */
export function buildZip(entries: TestEntry[]): Buffer {
  return buildRawZip(
    entries.map((e) => {
      const isDir = e.name.endsWith('/');
      return {
        name: e.name,
        data: e.data ?? '',
        method: e.store || isDir || e.symlink ? (0 as const) : (8 as const),
        mode: e.symlink ? 0o120777 : isDir ? 0o040755 : 0o100644,
      };
    }),
  );
}

/** Build a gzipped tar archive in memory. */
export async function buildTgz(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    if (e.symlink) {
      pack.entry({ name: e.name, type: 'symlink', linkname: String(e.data ?? '') });
    } else if (e.name.endsWith('/')) {
      pack.entry({ name: e.name, type: 'directory' });
    } else {
      const raw = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8');
      await new Promise<void>((res, rej) => pack.entry({ name: e.name, size: raw.length }, raw, (err) => (err ? rej(err) : res())));
    }
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** Write a test archive to `path`, as zip or tgz by the extension. */
export async function writeArchive(path: string, entries: TestEntry[]): Promise<string> {
  const buf = /\.(tgz|tar\.gz)$/.test(path) ? await buildTgz(entries) : buildZip(entries);
  await writeFile(path, buf);
  return path;
}
