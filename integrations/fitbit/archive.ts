/**
 * Reading a Fitbit / Google Health archive (`.zip` or `.tgz`) entry by entry, with the safety
 * checks an uploaded archive needs, and recognising which export layout and file family each
 * entry belongs to. Never holds the archive in memory: entries are streamed one at a time.
 */
import { createReadStream } from 'node:fs';
import { open as openFile, stat } from 'node:fs/promises';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import yauzl from 'yauzl';
import tar from 'tar-stream';

/** Machine-readable reasons an import fails; `message` is for people. */
export type ImportErrorCode =
  | 'unsupported_archive'
  | 'corrupt_archive'
  | 'unsafe_entry'
  | 'too_many_entries'
  | 'too_large'
  | 'suspicious_compression'
  | 'entry_too_large'
  | 'not_fitbit'
  | 'bad_timezone'
  | 'aborted';

/** A failure of an archive import, with a message a person can act on. */
export class ImportError extends Error {
  /** What went wrong, for code; the message is for people. */
  readonly code: ImportErrorCode;
  constructor(code: ImportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImportError';
    this.code = code;
  }
}

/** Caps that keep a hostile or broken archive from exhausting the server. */
export interface ArchiveLimits {
  /** Most entries (files and folders) an archive may hold. */
  maxEntries: number;
  /** Most bytes all entries may expand to, together. */
  maxTotalBytes: number;
  /** Highest expansion ratio (uncompressed / compressed) tolerated... */
  maxRatio: number;
  /** ...once an entry (zip) or the whole stream (tgz) has expanded past this many bytes. */
  ratioThresholdBytes: number;
}

/** Defaults sized for real Takeout parts (up to 50 GB) while refusing zip bombs. */
export const DEFAULT_LIMITS: ArchiveLimits = { maxEntries: 200_000, maxTotalBytes: 64 * 1024 ** 3, maxRatio: 200, ratioThresholdBytes: 1024 * 1024 };

/** Where an archive came from, recognised from its folder names. */
export type ArchiveLayout = 'takeout-fitbit' | 'takeout-google-health' | 'myfitbitdata' | 'user-site-export' | 'unknown';

/** The file families this importer reads. */
export type FileFamily =
  | 'heart_rate_json'
  | 'steps_json'
  | 'sleep_json'
  | 'weight_json'
  | 'resting_heart_rate_json'
  | 'exercise_json'
  | 'heart_rate_csv'
  | 'steps_csv'
  | 'resting_heart_rate_csv'
  | 'weight_csv'
  | 'user_sleeps_csv';

/** An entry's place in the archive: its family, and the date its name carries, if any. */
export interface Classified {
  family: FileFamily;
  /** YYYY-MM-DD from the file name (the local day for heart_rate-*.json). */
  fileDate?: string;
}

const FAMILY_PATTERNS: Array<[RegExp, FileFamily]> = [
  [/^heart_rate-(\d{4}-\d{2}-\d{2})\.json$/i, 'heart_rate_json'],
  [/^steps-(\d{4}-\d{2}-\d{2})\.json$/i, 'steps_json'],
  [/^sleep-(\d{4}-\d{2}-\d{2})\.json$/i, 'sleep_json'],
  [/^weight-(\d{4}-\d{2}-\d{2})\.json$/i, 'weight_json'],
  [/^resting_heart_rate-(\d{4}-\d{2}-\d{2})\.json$/i, 'resting_heart_rate_json'],
  [/^exercise-\d+\.json$/i, 'exercise_json'],
  [/^heart_rate_(\d{4}-\d{2}-\d{2})\.csv$/i, 'heart_rate_csv'],
  [/^steps_(\d{4}-\d{2}-\d{2})\.csv$/i, 'steps_csv'],
  [/^daily_resting_heart_rate\.csv$/i, 'resting_heart_rate_csv'],
  [/^weight\.csv$/i, 'weight_csv'],
  [/^UserSleeps.*\.csv$/i, 'user_sleeps_csv'],
];

/**
 * Recognise an entry by its file name only: folders moved between export eras (FINDINGS §1.1),
 * names did not.
 */
export function classifyEntry(path: string): Classified | null {
  const base = path.split('/').pop() ?? path;
  for (const [re, family] of FAMILY_PATTERNS) {
    const m = re.exec(base);
    if (m) return m[1] ? { family, fileDate: m[1] } : { family };
  }
  return null;
}

/** Files every export carries that are documentation, not data: not worth reporting. */
export function isIgnorable(path: string): boolean {
  const base = path.split('/').pop() ?? '';
  return base === '' || /readme.*\.(txt|md)$/i.test(base) || /^archive_browser\.html$/i.test(base) || base === '.DS_Store';
}

/** The export layout an entry path belongs to, or null when the path says nothing. */
export function layoutOf(path: string): ArchiveLayout | null {
  const segs = path.split('/');
  const at = (name: string): number => segs.findIndex((s) => s.toLowerCase() === name);
  if (at('google health') >= 0) return 'takeout-google-health';
  if (at('fitbit') >= 0 && (at('takeout') >= 0 || at('fitbit') === 0)) return 'takeout-fitbit';
  if (at('myfitbitdata') >= 0) return 'myfitbitdata';
  if (at('user-site-export') >= 0) return 'user-site-export';
  return null;
}

/** One archive entry handed to a visitor; `stream` must be consumed or destroyed. */
export interface ArchiveEntry {
  path: string;
  /** Uncompressed size as declared by the archive. */
  size: number;
  stream: Readable;
}

/** Options for one pass over an archive. */
export interface WalkOptions {
  limits?: Partial<ArchiveLimits>;
  signal?: AbortSignal;
  /** Which entries to open; the rest are skipped without reading (zip) or drained (tgz). */
  want(path: string): boolean;
  /** Called once per entry (file or folder), opened or not, in archive order. */
  onEntry?(path: string, isDirectory: boolean): void;
  /** Called once with the entry count when the archive declares it (zip only). */
  onEntryCount?(count: number): void;
}

/** The container formats this reader understands, from the file's magic bytes. */
export type ArchiveFormat = 'zip' | 'tgz';

/** Detect zip vs gzip by magic bytes, so a misnamed upload still works. */
export async function detectFormat(path: string): Promise<ArchiveFormat> {
  const fh = await openFile(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    if (bytesRead >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5)) return 'zip';
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'tgz';
  } finally {
    await fh.close();
  }
  throw new ImportError(
    'unsupported_archive',
    'This file is not a .zip or .tgz archive. Upload the Fitbit or Google Health archive exactly as you downloaded it.',
  );
}

/** Reject paths that could escape an extraction folder, even though we never extract. */
export function checkEntryPath(path: string): void {
  const bad = path.includes('\0') || path.includes('\\') || path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.split('/').includes('..');
  if (bad) {
    throw new ImportError(
      'unsafe_entry',
      `The archive contains an unsafe file path ("${printable(path)}"), so it was not imported. Download the archive again from Fitbit or Google Takeout.`,
    );
  }
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f]/g, '?').slice(0, 200);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new ImportError('aborted', 'The import was cancelled.');
}

/** Tracks expanded bytes across a pass and enforces the total cap. */
class Budget {
  total = 0;
  constructor(readonly limits: ArchiveLimits) {}
  add(n: number): void {
    this.total += n;
    if (this.total > this.limits.maxTotalBytes) {
      throw new ImportError('too_large', `The archive expands to more than ${formatBytes(this.limits.maxTotalBytes)}, which is more than this server accepts.`);
    }
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(0)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${n} bytes`;
}

function bombError(): ImportError {
  return new ImportError(
    'suspicious_compression',
    'The archive is compressed far more than a real export could be (a possible "zip bomb"), so it was not imported.',
  );
}

/** Counts real decompressed bytes of one zip entry (declared sizes can lie). */
function zipEntryMeter(budget: Budget, compressedSize: number, limits: ArchiveLimits): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      try {
        budget.add(chunk.length);
        if (seen > limits.ratioThresholdBytes && seen / Math.max(1, compressedSize) > limits.maxRatio) throw bombError();
      } catch (err) {
        cb(err as Error);
        return;
      }
      cb(null, chunk);
    },
  });
}

/**
 * One pass over an archive: calls `visit` for each wanted file entry, in archive order, and
 * awaits it before moving on (so a slow sink slows reading: backpressure). Safety checks apply
 * to every entry, wanted or not.
 */
export async function walkArchive(source: ArchiveSource, options: WalkOptions, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const format = typeof source === 'string' ? await detectFormat(source) : source.format;
  if (format === 'zip') await walkZip(source, limits, options, visit);
  else await walkTgz(source, limits, options, visit);
}

/**
 * Where an archive is read from: a plain file path, or (on the server, where uploads are only
 * ever stored encrypted) openers over a decrypting reader, so the archive is read as often as
 * the two passes need without a plaintext copy on disk.
 */
export type ArchiveSource =
  | string
  | {
      format: ArchiveFormat;
      /** For zip: random access (yauzl reads the central directory at the end). */
      openZip?: () => Promise<{ reader: yauzl.RandomAccessReader; size: number }>;
      /** For tgz: a fresh stream of the archive's bytes. */
      openStream?: () => Readable;
    };

async function openZip(source: ArchiveSource): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true };
  const ra = typeof source === 'string' ? undefined : await source.openZip!();
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) => {
      if (err || !zip) reject(mapZipError(err));
      else resolve(zip);
    };
    if (typeof source === 'string') yauzl.open(source, options, done);
    else yauzl.fromRandomAccessReader(ra!.reader, ra!.size, options, done);
  });
}

/**
 * An error a visitor threw while its entry read fine: a fault of this program, not of the
 * archive, so it is passed on as it is instead of becoming "the archive could not be read"
 * (which would send the person to download an intact archive again).
 */
class VisitorFailure {
  constructor(readonly error: unknown) {}
}

/** Calls `visit`, telling a failure to read the entry (the archive's) from the visitor's own. */
async function visitEntry(visit: (entry: ArchiveEntry) => Promise<void>, entry: ArchiveEntry, map: (err: unknown) => ImportError): Promise<void> {
  let readError: unknown;
  entry.stream.on('error', (err) => {
    readError ??= err;
  });
  try {
    await visit(entry);
  } catch (err) {
    if (err instanceof ImportError) throw err;
    const failed = readError ?? entry.stream.errored ?? undefined;
    throw failed !== undefined ? map(failed) : new VisitorFailure(err);
  }
}

function mapZipError(err: unknown): ImportError {
  if (err instanceof ImportError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/absolute path|invalid relative path|invalid characters in fileName/i.test(msg)) {
    return new ImportError(
      'unsafe_entry',
      'The archive contains an unsafe file path, so it was not imported. Download the archive again from Fitbit or Google Takeout.',
      { cause: err },
    );
  }
  if (
    /too many length or distance symbols|invalid (stored|distance|code)|incorrect header check|unexpected end|bad|invalid|expected|corrupt|truncated|signature/i.test(
      msg,
    )
  ) {
    return new ImportError(
      'corrupt_archive',
      'The archive is damaged or incomplete. If Takeout split it into several parts, upload each part separately; otherwise download it again.',
      { cause: err },
    );
  }
  return new ImportError('corrupt_archive', 'The archive could not be read. Download it again and retry.', { cause: err });
}

function isZipSymlink(entry: yauzl.Entry): boolean {
  const unixMode = (entry.externalFileAttributes >>> 16) & 0o170000;
  return unixMode === 0o120000;
}

async function walkZip(path: ArchiveSource, limits: ArchiveLimits, options: WalkOptions, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const zip = await openZip(path);
  const budget = new Budget(limits);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new ImportError('too_many_entries', `The archive holds ${zip.entryCount} files; at most ${limits.maxEntries} are accepted.`);
    }
    options.onEntryCount?.(zip.entryCount);
    let declaredTotal = 0;
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      const fail = (err: unknown): void => reject(err instanceof VisitorFailure ? err.error : mapZipError(err));
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          throwIfAborted(options.signal);
          seen += 1;
          if (seen > limits.maxEntries) {
            throw new ImportError('too_many_entries', `The archive holds more than ${limits.maxEntries} files.`);
          }
          const name = entry.fileName;
          checkEntryPath(name);
          if (isZipSymlink(entry)) {
            throw new ImportError(
              'unsafe_entry',
              `The archive contains a symbolic link ("${printable(name)}"); real exports have none, so it was not imported.`,
            );
          }
          const isDir = name.endsWith('/');
          options.onEntry?.(name, isDir);
          if (!isDir) {
            // Declared sizes refuse an oversized archive before any byte is inflated; the meter
            // below still counts real bytes, since declarations can lie.
            declaredTotal += entry.uncompressedSize;
            if (declaredTotal > limits.maxTotalBytes) new Budget(limits).add(declaredTotal);
            if (entry.uncompressedSize > limits.ratioThresholdBytes && entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio) {
              throw bombError();
            }
            if (options.want(name)) {
              if (entry.isEncrypted()) {
                throw new ImportError('unsupported_archive', 'The archive is password-protected; upload an unencrypted export.');
              }
              const raw = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (err, s) => (err || !s ? rej(err) : res(s))));
              const meter = zipEntryMeter(budget, entry.compressedSize, limits);
              raw.on('error', (err) => meter.destroy(err));
              raw.pipe(meter);
              try {
                await visitEntry(visit, { path: name, size: entry.uncompressedSize, stream: meter }, mapZipError);
              } finally {
                meter.destroy();
                raw.destroy();
              }
            }
          }
          zip.readEntry();
        })().catch(fail);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** Counts gunzipped bytes against compressed bytes for the whole tar stream. */
function gzipMeter(budget: Budget, limits: ArchiveLimits, compressed: () => number): Transform {
  let out = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      out += chunk.length;
      try {
        budget.add(chunk.length);
        if (out > limits.ratioThresholdBytes && out / Math.max(1, compressed()) > limits.maxRatio) throw bombError();
      } catch (err) {
        cb(err as Error);
        return;
      }
      cb(null, chunk);
    },
  });
}

async function walkTgz(path: ArchiveSource, limits: ArchiveLimits, options: WalkOptions, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const budget = new Budget(limits);
  let compressed = 0;
  const file = typeof path === 'string' ? createReadStream(path) : path.openStream!();
  file.on('data', (c: Buffer | string) => {
    compressed += c.length;
  });
  const extract = tar.extract();
  let count = 0;
  const consume = (async () => {
    for await (const entry of extract) {
      throwIfAborted(options.signal);
      count += 1;
      if (count > limits.maxEntries) {
        throw new ImportError('too_many_entries', `The archive holds more than ${limits.maxEntries} files.`);
      }
      const h = entry.header;
      const name = h.name.replace(/^\.\//, '');
      checkEntryPath(name);
      if (h.type === 'symlink' || h.type === 'link') {
        throw new ImportError('unsafe_entry', `The archive contains a link ("${printable(name)}"); real exports have none, so it was not imported.`);
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file' && h.type !== 'directory') {
        throw new ImportError('unsafe_entry', `The archive contains a special file ("${printable(name)}"), so it was not imported.`);
      }
      const isDir = h.type === 'directory';
      options.onEntry?.(name, isDir);
      if (!isDir && options.want(name)) {
        // tar-stream entries are streamx streams; visitors get a plain Node stream.
        const pass = new PassThrough();
        entry.pipe(pass);
        try {
          await visitEntry(visit, { path: name, size: h.size ?? 0, stream: pass }, mapTarError);
        } finally {
          // Whatever the visitor left unread is drained so the next header can be reached.
          pass.resume();
        }
      } else {
        entry.resume();
      }
    }
  })();
  const feed = pipeline(
    file,
    createGunzip(),
    gzipMeter(budget, limits, () => compressed),
    extract,
  ).catch((err: unknown) => {
    throw err instanceof ImportError ? err : mapTarError(err);
  });
  try {
    await Promise.all([consume, feed]);
  } catch (err) {
    file.destroy();
    extract.destroy();
    if (err instanceof VisitorFailure) throw err.error;
    throw err instanceof ImportError ? err : mapTarError(err);
  }
}

function mapTarError(err: unknown): ImportError {
  return new ImportError(
    'corrupt_archive',
    'The archive is damaged or incomplete. If Takeout split it into several parts, upload each part separately; otherwise download it again.',
    { cause: err },
  );
}

/** Size of the archive file, for progress. */
export async function archiveSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Read a whole entry as UTF-8, refusing entries over `maxBytes` (JSON files are parsed whole). */
export async function readEntryText(stream: Readable, maxBytes: number, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > maxBytes) {
      stream.destroy();
      throw new ImportError(
        'entry_too_large',
        `The file "${printable(path)}" in the archive is larger than ${formatBytes(maxBytes)}; it looks unlike a Fitbit export file.`,
      );
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
}
