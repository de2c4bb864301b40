import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { AgeWorkFactorError, ageDecryptStream, type AgeKey } from '../../crypto/index.js';
import { AppError, unprocessable } from '../errors.js';
import type { SessionContext } from '../services/keyring.js';
import { EXPORT_FORMAT, EXPORT_VERSION, Manifest } from '../../contract/export.js';
import type { ImportState, PortabilitySection } from './sections/section.js';

const MAX_ENTRIES = 5_000_000;

/**
 * Restores an export into the signed-in account, reading the age file once, front to back:
 * decrypt (streamed) -> tar entries -> the section that owns each entry name. Nothing is
 * buffered beyond one JSON line or one 64 KiB chunk of a file.
 */
export class ExportImportService {
  constructor(private readonly sections: () => readonly PortabilitySection[]) {}

  /** Opens the age layer; a key that does not match is a 422 before anything is read further. */
  static async open(source: AsyncIterable<unknown> & { destroy?: (e?: Error) => void }, key: AgeKey): Promise<Readable> {
    try {
      return await ageDecryptStream(source, key);
    } catch (err) {
      source.destroy?.();
      if (err instanceof AgeWorkFactorError) {
        throw unprocessable('The file asks for a passphrase work factor above what this server accepts (age scrypt 2^19).', 'work_factor_too_high');
      }
      throw unprocessable('The passphrase or identity does not open this file, or it is not an age-encrypted export.', 'wrong_key');
    }
  }

  /** Restores from the age file itself (CLI, tests). */
  async restore(
    session: SessionContext,
    source: AsyncIterable<unknown> & { destroy?: (e?: Error) => void },
    key: AgeKey,
    progress?: (done: number, total?: number) => void,
  ) {
    return this.restoreTar(session, await ExportImportService.open(source, key), progress);
  }

  /**
   * Restores from the decrypted tar. `kept` hears what the run added per section once it is over,
   * whether it succeeded or failed: a failed run keeps what it read before the failure (less what
   * is useless without the rest, see {@link PortabilitySection.finish}), and says so.
   */
  async restoreTar(
    session: SessionContext,
    plain: Readable,
    progress: (done: number, total?: number) => void = () => {},
    kept: (imported: Record<string, number>, warnings: Record<string, number>) => void = () => {},
  ): Promise<{ manifest: Manifest; imported: Record<string, number>; warnings: Record<string, number> }> {
    const extract = tar.extract();
    plain.on('error', (err) => extract.destroy(err));
    plain.pipe(extract);

    let manifest: Manifest | undefined;
    let total: number | undefined;
    let done = 0;
    const state: ImportState = {
      session,
      fileIds: new Map(),
      fileMeta: new Map(),
      itemIds: new Map(),
      folderIds: new Map(),
      storedFiles: new Set(),
      imported: {},
      warnings: {},
      progress: (n) => {
        done += n;
        progress(done, total);
      },
    };
    let entries = 0;
    try {
      for await (const raw of extract) {
        const entry = raw as unknown as Readable & { header: tar.Header };
        if (++entries > MAX_ENTRIES) throw unprocessable('The export has too many entries.', 'invalid_export');
        const name = entry.header.name;
        if (!manifest) {
          if (name !== 'manifest.json') throw unprocessable('This is not a Context Vault export (no manifest first).', 'invalid_export');
          manifest = await readManifest(entry);
          state.exportedAt = instant(manifest.created);
          total = Object.entries(manifest.counts).reduce((a, [k, v]) => (k === 'files' || k === 'items' ? a + v : a), 0);
          progress(0, total);
          continue;
        }
        const section = entry.header.type === 'file' ? this.sections().find((s) => s.accepts(name)) : undefined;
        if (section) await section.import(name, entry, state);
        // Entries from a newer version or a section this server lacks are skipped, not fatal.
        entry.resume();
      }
      if (!manifest) throw unprocessable('The export is empty.', 'invalid_export');
    } catch (err) {
      extract.destroy();
      plain.destroy();
      await this.#finish(state, false);
      kept(state.imported, state.warnings);
      throw failure(err, entries, state.imported);
    }
    await this.#finish(state, true);
    kept(state.imported, state.warnings);
    return { manifest, imported: state.imported, warnings: state.warnings };
  }

  async #finish(state: ImportState, ok: boolean): Promise<void> {
    for (const s of this.sections()) {
      try {
        await s.finish?.(state, ok);
      } catch (err) {
        // After a failure, the failure is what the owner must hear, not a clean-up's.
        if (ok) throw err;
      }
    }
  }
}

/** The age layer's authentication failures (an age file damaged or cut short). */
const AGE_DAMAGE = /Unsupported state|authentication|invalid tag|final chunk/i;
/** tar-stream's, for a tar cut short or garbled inside an intact age file. */
const TAR_DAMAGE = /Unexpected end of data|Invalid (tar )?header|Header exceeds/i;

/** What a failed run tells its owner: why, and what of the export it kept. */
function failure(err: unknown, entries: number, imported: Record<string, number>): unknown {
  const message = (err as Error)?.message ?? '';
  const what = Object.entries(imported).filter(([, n]) => n > 0);
  const list = what.length ? ` (${what.map(([k, n]) => `${n} ${k}`).join(', ')})` : '';
  // No tar header could be read at all: the file opened, but what it holds is no tar (a text file
  // encrypted with age), so not an export rather than a damaged one.
  if (entries === 0 && TAR_DAMAGE.test(message) && !AGE_DAMAGE.test(message)) {
    return unprocessable('This is not a Context Vault export (the file holds no tar archive).', 'invalid_export');
  }
  if (AGE_DAMAGE.test(message) || TAR_DAMAGE.test(message)) {
    return unprocessable(`The export is damaged or truncated; what was read before the damage was kept${list}.`, 'damaged_export');
  }
  if (err instanceof AppError && what.length) {
    return new AppError(err.statusCode, err.code, `${err.message} What was read before it was kept${list}.`, err.headers, err.extra);
  }
  return err;
}

/** A manifest's `created` as a Date; a hand-edited one that is no date is no instant. */
function instant(value: string): Date | undefined {
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t) : undefined;
}

async function readManifest(entry: Readable): Promise<Manifest> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of entry) {
    len += (c as Buffer).length;
    if (len > 1024 * 1024) throw unprocessable('The export manifest is too large.', 'invalid_export');
    chunks.push(c as Buffer);
  }
  let parsed;
  try {
    parsed = Manifest.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    throw unprocessable('The export manifest is not valid JSON.', 'invalid_export');
  }
  if (!parsed.success || parsed.data.format !== EXPORT_FORMAT) throw unprocessable('This is not a Context Vault export.', 'invalid_export');
  if (parsed.data.version > EXPORT_VERSION) {
    throw unprocessable(`This export was written by a newer version (format ${parsed.data.version}); update this server first.`, 'unsupported_export');
  }
  return parsed.data;
}
