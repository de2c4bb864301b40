/**
 * Opens an uploaded Apple Health `export.zip` and checks every entry before anything is read:
 * an upload is untrusted input, and a zip can hide path traversal, symlinks or a zip bomb.
 */
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ImportError } from './errors.js';

/** Safety limits for an uploaded zip. */
export interface ZipLimits {
  /** Most entries accepted (default 100,000; a large export has a few thousand). */
  maxEntries?: number;
  /** Most bytes all entries may declare uncompressed together (default 20 GiB). */
  maxTotalBytes?: number;
  /** Highest uncompressed/compressed ratio of one entry (default 200; XML compresses ~10-30x). */
  maxRatio?: number;
  /** Entries smaller than this skip the ratio check: tiny files have meaningless ratios (default 1 MiB). */
  ratioMinBytes?: number;
  /** Largest clinical-record JSON read into memory (default 64 MiB). */
  maxJsonBytes?: number;
  /**
   * Most bytes all clinical-record JSON files read by one import may inflate to together
   * (default 64 MiB plus 32 times the archive's size). Each file is read at most once; this bounds
   * what many small, highly compressed files can cost (real clinical JSON compresses 5-15 times).
   */
  maxClinicalBytes?: number;
}

const DEFAULTS: Required<Omit<ZipLimits, 'maxClinicalBytes'>> = {
  maxEntries: 100_000,
  maxTotalBytes: 20 * 1024 ** 3,
  maxRatio: 200,
  ratioMinBytes: 1024 ** 2,
  maxJsonBytes: 64 * 1024 ** 2,
};

/** The default {@link ZipLimits.maxClinicalBytes} for an archive of `archiveBytes`. */
export function clinicalBudget(archiveBytes: number): number {
  return 64 * 1024 ** 2 + 32 * archiveBytes;
}

/** An opened, checked export.zip. */
export interface AppleHealthZip {
  /** Path of the export XML inside the zip ("apple_health_export/export.xml"). */
  readonly xmlName: string;
  /** Its uncompressed size in bytes (validated against the data as it is read). */
  readonly xmlSize: number;
  /** Paths of the clinical-records JSON files. */
  readonly clinicalFiles: readonly string[];
  /** Opens the export XML as a stream of uncompressed bytes. */
  openXml(): Promise<Readable>;
  /**
   * The zip entry a ClinicalRecord's `resourceFilePath` names ("/clinical-records/X.json",
   * relative to the export folder), or null when the zip has no such file. Several records can
   * name one entry: callers read each entry once.
   */
  clinicalEntry(resourceFilePath: string): string | null;
  /**
   * Reads and parses the JSON a ClinicalRecord's `resourceFilePath` names. Null when the zip has
   * no such file; throws an ImportError 'too_large' when the file is too large, 'zip_unsafe' when
   * the clinical files read so far inflate past `maxClinicalBytes`, and a SyntaxError when it is
   * not JSON.
   */
  readClinicalJson(resourceFilePath: string): Promise<unknown | null>;
  close(): void;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Checks one entry's name; returns the problem in words, or null. */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'an entry has an empty name';
  if (name.includes('\u0000')) return `entry "${name}" has a NUL character in its name`;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return `entry "${name}" has an absolute path`;
  if (name.split(/[/\\]/).includes('..')) return `entry "${name}" points outside the archive ("..")`;
  return null;
}

/**
 * Where a zip is read from: a path, or a random-access reader (the server keeps uploads
 * encrypted on disk and decrypts only the ranges yauzl asks for).
 */
export type ZipSource = string | { reader: yauzl.RandomAccessReader; size: number };

function openZip(source: ZipSource): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    const options = { lazyEntries: true, validateEntrySizes: true, decodeStrings: false, autoClose: false };
    const done = (err: Error | null, zf?: ZipFile) => {
      if (err || !zf)
        reject(
          new ImportError(
            'zip_invalid',
            `The upload is not a readable zip archive (${err?.message ?? 'unknown error'}). Upload the export.zip the Health app created, unchanged.`,
            { cause: err },
          ),
        );
      else resolve(zf);
    };
    if (typeof source === 'string') yauzl.open(source, options, done);
    else yauzl.fromRandomAccessReader(source.reader, source.size, options, done);
  });
}

/** Maps errors raised while decompressing an entry to ImportErrors. */
export function zipStreamError(e: unknown, entryName: string): ImportError | null {
  if (e instanceof ImportError) return e;
  const err = e as { message?: string; code?: string };
  const msg = err?.message ?? String(e);
  if (/bytes in the stream|too many bytes|not enough bytes/i.test(msg)) {
    return new ImportError(
      'zip_unsafe',
      `The zip entry "${entryName}" holds a different amount of data than it declares, so the archive was refused as unsafe.`,
      { cause: e },
    );
  }
  if ((err?.code && /^Z_|^ERR_ZLIB/.test(err.code)) || /invalid (stored|block|distance|code)|unexpected end|incorrect header/i.test(msg)) {
    return new ImportError('zip_invalid', `The zip entry "${entryName}" is corrupt and could not be decompressed (${msg}). Upload the export.zip again.`, {
      cause: e,
    });
  }
  return null;
}

type XmlEntry = { name: string; entry: Entry };

const isCda = (n: string) => /_cda\.xml$/i.test(n);
// macOS's resource forks (__MACOSX/, ._export.xml) are never the export.
const isFork = (n: string) => /(^|\/)(__MACOSX\/|\._)/.test(n);
const depthOf = (n: string) => n.split('/').length - 1;

// Apple names the file export.xml, in a localized form on some systems (Exportar.xml); the
// CDA copy (export_cda.xml, exportar_cda.xml) is a different document and never the one. The
// folder Apple writes comes first, then the shallowest: a person who unzipped the export and
// zipped the folder again from its parent (Downloads/apple_health_export/export.xml) has it
// a level deeper.
function rank(n: string): number {
  const lower = n.toLowerCase();
  const depth = depthOf(lower);
  const base = lower.slice(lower.lastIndexOf('/') + 1);
  if (lower === 'apple_health_export/export.xml') return 0;
  const byDepth = depth === 1 ? 1 : depth === 0 ? 2 : 2 + depth;
  return base === 'export.xml' ? byDepth : 1000 + byDepth;
}

// Among equals the larger file wins (a copy cut short is the smaller one), then the name in code
// unit order, so that the choice never depends on the order of the entries in the archive.
function byRank(a: XmlEntry, b: XmlEntry): number {
  return rank(a.name) - rank(b.name) || b.entry.uncompressedSize - a.entry.uncompressedSize || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Splits the zip's XML files into those whose name and place say they are the export (best
 * first) and the others (shallowest first), which may still be a localized export zipped again
 * from far up (Descargas/Salud/Exportar.xml) and are told apart by their content.
 */
function byName(xmls: XmlEntry[]): { named: XmlEntry[]; others: XmlEntry[] } {
  const plain = xmls.filter((x) => !isCda(x.name) && !isFork(x.name));
  // Apple writes the CDA copy beside the main file under the same stem: Exportar.xml's is
  // Exportar_cda.xml, whatever the language and however deep the folder was zipped again.
  const twins = new Set(xmls.filter((x) => isCda(x.name) && !isFork(x.name)).map((x) => x.name.toLowerCase().replace(/_cda\.xml$/, '.xml')));
  const isExport = (n: string) => {
    const lower = n.toLowerCase();
    const parts = lower.split('/');
    // Another name at the top or one folder down is where Apple writes it; deeper, an .xml beside
    // nothing telling is a workout route or anything else.
    return parts.at(-1) === 'export.xml' || parts.length <= 2 || parts.at(-2) === 'apple_health_export' || twins.has(lower);
  };
  const named = plain.filter((x) => isExport(x.name)).sort(byRank);
  const others = plain.filter((x) => !isExport(x.name)).sort((a, b) => depthOf(a.name) - depthOf(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { named, others };
}

/** What an export declares in its first bytes: Apple's DTD, or the root element where a tool dropped it. */
const HEALTH_ROOT = /<!DOCTYPE\s+HealthData[\s[>]|<HealthData[\s>/]/;
/** How much of a file is read to find that root: Apple's DTD is about 12 KB. */
const SNIFF_BYTES = 64 * 1024;
/** Most files read that way, so that a zip of many small XML files costs little. */
const MAX_SNIFFED = 32;

/** Whether an entry's first bytes declare a <HealthData> document. Reads at most about SNIFF_BYTES. */
async function declaresHealthData(zf: ZipFile, entry: Entry): Promise<boolean> {
  if (entry.isEncrypted() || !entry.canDecodeFileData()) return false;
  let stream: Readable;
  try {
    stream = await zf.openReadStreamPromise(entry);
  } catch {
    return false;
  }
  let head = '';
  try {
    for await (const chunk of stream) {
      head += (chunk as Buffer).toString('latin1');
      if (HEALTH_ROOT.test(head)) return true;
      if (head.length >= SNIFF_BYTES) return false;
    }
    return false;
  } catch {
    // A damaged file is not the export; the refusal that follows names what is missing.
    return false;
  } finally {
    stream.destroy();
  }
}

async function choose(zf: ZipFile, xmls: XmlEntry[]): Promise<XmlEntry | undefined> {
  const { named, others } = byName(xmls);
  if (named[0]) return named[0];
  const found: XmlEntry[] = [];
  for (const x of others.slice(0, MAX_SNIFFED)) if (await declaresHealthData(zf, x.entry)) found.push(x);
  return found.sort(byRank)[0];
}

/**
 * Opens `path` as an Apple Health export.zip. Every entry is checked first: count, names
 * (no "..", absolute paths or drive letters), no symlinks, compression ratio, total size.
 * Throws an {@link ImportError}: 'zip_invalid', 'zip_unsafe', 'too_large' or 'not_apple_health'.
 */
export async function openAppleHealthZip(path: ZipSource, limits: ZipLimits = {}): Promise<AppleHealthZip> {
  const lim = { ...DEFAULTS, ...limits };
  const zf = await openZip(path);
  try {
    if (zf.entryCount > lim.maxEntries) {
      throw new ImportError(
        'too_large',
        `The zip has ${zf.entryCount} files, more than the ${lim.maxEntries} accepted. Upload the export.zip the Health app created.`,
      );
    }
    const xmls: XmlEntry[] = [];
    const clinical = new Map<string, Entry>();
    const clinicalByBase = new Map<string, string>();
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      zf.on('error', (e: Error) =>
        reject(new ImportError('zip_invalid', `The zip archive is damaged (${e.message}). Upload the export.zip again.`, { cause: e })),
      );
      zf.on('end', () => resolve());
      zf.on('entry', (entry: Entry) => {
        try {
          const raw = entry.fileName as unknown as Buffer | string;
          const name = typeof raw === 'string' ? raw : yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
          const problem = unsafeEntryName(name);
          if (problem) throw new ImportError('zip_unsafe', `The zip was refused as unsafe: ${problem}.`);
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          if (mode === S_IFLNK) throw new ImportError('zip_unsafe', `The zip was refused as unsafe: entry "${name}" is a symbolic link.`);
          const size = entry.uncompressedSize;
          if (!name.endsWith('/') && size >= lim.ratioMinBytes && size > lim.maxRatio * Math.max(entry.compressedSize, 1)) {
            throw new ImportError(
              'zip_unsafe',
              `The zip was refused as unsafe: entry "${name}" expands ${Math.round(size / Math.max(entry.compressedSize, 1))} times (more than ${lim.maxRatio}), the signature of a zip bomb.`,
            );
          }
          total += size;
          if (total > lim.maxTotalBytes) {
            throw new ImportError('too_large', `The zip expands to more than ${Math.round(lim.maxTotalBytes / 1024 ** 3)} GiB, over the accepted size.`);
          }
          if (!name.endsWith('/')) {
            const lower = name.toLowerCase();
            if (lower.endsWith('.xml')) xmls.push({ name, entry });
            else if (lower.endsWith('.json') && /(^|\/)clinical-records\//.test(name)) {
              clinical.set(name, entry);
              clinicalByBase.set(name.slice(name.lastIndexOf('/') + 1), name);
            }
          }
          zf.readEntry();
        } catch (e) {
          reject(e);
        }
      });
      zf.readEntry();
    });
    const xml = await choose(zf, xmls);
    if (!xml) {
      throw new ImportError(
        'not_apple_health',
        'This zip has no export.xml: it does not look like an Apple Health export. In the Health app, tap your picture, then "Export All Health Data", and upload that export.zip.',
      );
    }
    const dir = xml.name.includes('/') ? xml.name.slice(0, xml.name.lastIndexOf('/') + 1) : '';

    const open = async (entry: Entry, name: string): Promise<Readable> => {
      if (entry.isEncrypted())
        throw new ImportError('zip_invalid', `The zip entry "${name}" is encrypted; upload the export.zip as the Health app created it.`);
      if (!entry.canDecodeFileData())
        throw new ImportError('zip_invalid', `The zip entry "${name}" uses an unsupported compression method (${entry.compressionMethod}).`);
      try {
        return await zf.openReadStreamPromise(entry);
      } catch (e) {
        throw zipStreamError(e, name) ?? new ImportError('zip_invalid', `The zip entry "${name}" could not be read (${(e as Error).message}).`, { cause: e });
      }
    };

    const find = (resourceFilePath: string): { rel: string; name: string | undefined; entry: Entry | undefined } => {
      const rel = resourceFilePath.replace(/^\/+/, '');
      const name = clinical.has(dir + rel) ? dir + rel : clinical.has(rel) ? rel : clinicalByBase.get(rel.slice(rel.lastIndexOf('/') + 1));
      return { rel, name, entry: name === undefined ? undefined : clinical.get(name) };
    };
    const maxClinical = lim.maxClinicalBytes ?? clinicalBudget((zf as ZipFile & { fileSize: number }).fileSize);
    let inflated = 0;

    return {
      xmlName: xml.name,
      xmlSize: xml.entry.uncompressedSize,
      clinicalFiles: [...clinical.keys()],
      openXml: () => open(xml.entry, xml.name),
      clinicalEntry(resourceFilePath: string): string | null {
        return find(resourceFilePath).name ?? null;
      },
      async readClinicalJson(resourceFilePath: string): Promise<unknown | null> {
        const { rel, entry } = find(resourceFilePath);
        if (!entry) return null;
        if (entry.uncompressedSize > lim.maxJsonBytes) {
          throw new ImportError('too_large', `The clinical record ${rel} is ${entry.uncompressedSize} bytes, more than the ${lim.maxJsonBytes} accepted.`);
        }
        // Declared sizes are enforced while inflating (validateEntrySizes), so this is exact.
        inflated += entry.uncompressedSize;
        if (inflated > maxClinical) {
          throw new ImportError(
            'zip_unsafe',
            `The clinical records in this zip expand to more than ${Math.round(maxClinical / 1024 ** 2)} MB, far more than the upload's size explains, so the import was stopped as unsafe. Upload the export.zip the Health app created, unchanged.`,
          );
        }
        const stream = await open(entry, rel);
        const parts: Buffer[] = [];
        try {
          for await (const c of stream) parts.push(c as Buffer);
        } catch (e) {
          throw zipStreamError(e, rel) ?? e;
        }
        return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
      },
      close: () => zf.close(),
    };
  } catch (e) {
    zf.close();
    throw e;
  }
}
