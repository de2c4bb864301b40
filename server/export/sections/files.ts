/** Files: metadata as files.jsonl, each body as its own tar entry. */
import { Transform, type Readable } from 'node:stream';
import type { ExportRepository } from '../../repositories/export.repository.js';
import type { FilesService } from '../../services/files.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { AppError } from '../../errors.js';
import { ExportFile } from '../../../contract/export.js';
import { FILE_ENTRY, fileEntryName } from '../format.js';
import { readLines } from '../lines.js';
import { count, warn, WARNINGS, type ExportOptions, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

/** File ids read per query: a vault's files are never listed whole. */
const PAGE = 500;

export class FilesSection implements PortabilitySection {
  readonly name = 'files';
  constructor(
    private readonly files: FilesService,
    private readonly counts: ExportRepository,
  ) {}

  /** The files the exported items point at: none only a trashed item (unless asked for) or nothing uses. */
  count(session: SessionContext, options?: ExportOptions): Promise<number> {
    return this.counts.files(session.userId, options?.includeTrash ?? false);
  }

  async *#ids(session: SessionContext, includeTrash: boolean): AsyncGenerator<string> {
    let after: string | undefined;
    for (;;) {
      const page = await this.counts.fileIds(session.userId, includeTrash, after, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1];
    }
  }

  async export(session: SessionContext, out: ExportWriter, options?: ExportOptions): Promise<void> {
    const includeTrash = options?.includeTrash ?? false;
    const self = this;
    // Metadata first (ids and names only), so the importer knows each file's type before its
    // bytes arrive; then the bodies, reading the ids a second time rather than keeping them.
    await out.jsonl(
      'files.jsonl',
      (async function* () {
        for await (const id of self.#ids(session, includeTrash)) {
          const f = await self.files.describe(session, id);
          if (f) yield { id, name: f.meta.name, contentType: f.meta.contentType, size: f.size } satisfies ExportFile;
        }
      })(),
    );
    for await (const id of this.#ids(session, includeTrash)) {
      let f;
      try {
        f = await this.files.download(session, id);
      } catch (err) {
        // Deleted while the export ran (its item purged from the trash): nothing to carry.
        if (err instanceof AppError && err.statusCode === 404) continue;
        throw err;
      }
      if (!(await readable(f.stream))) {
        // Its blob is gone from storage: every other file still goes out, and this one is listed
        // as missing, rather than failing every export of the vault from here on.
        out.missing(this.name, id);
        continue;
      }
      await out.entry(fileEntryName(id, f.meta.name), f.size, f.stream);
    }
  }

  accepts(name: string): boolean {
    return name === 'files.jsonl' || FILE_ENTRY.test(name);
  }

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    if (name === 'files.jsonl') {
      for await (const f of readLines(body, name, ExportFile, 'file')) state.fileMeta.set(f.id, f);
      return;
    }
    const oldId = FILE_ENTRY.exec(name)![1]!;
    const meta = state.fileMeta.get(oldId);
    const fileName = meta?.name ?? name.slice(name.lastIndexOf('/') + 1);
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    body.once('error', (err) => counted.destroy(err));
    const r = await this.files.importFile(state.session, { stream: counted, name: fileName, contentType: meta?.contentType });
    if (meta && meta.size !== size) warn(state, WARNINGS.fileSize);
    state.fileIds.set(oldId, r.fileId);
    // The same content already here is reused: only a file this run stored counts as imported.
    if (r.created) {
      state.storedFiles.add(r.fileId);
      count(state, this.name);
    }
    state.progress(1);
  }

  /**
   * Takes back the files this run stored that no item points at by now: a trashed item's file in
   * an export made before trash was left out of the files, or every file of a run that failed
   * before the items that use them. Files the account had before are never touched.
   */
  async finish(state: ImportState, ok: boolean): Promise<void> {
    // Only a run that read the whole tar knows which listed files never came.
    if (ok) for (const id of state.fileMeta.keys()) if (!state.fileIds.has(id)) warn(state, WARNINGS.fileNotHeld);
    for (const id of state.storedFiles) {
      if (await this.files.removeIfUnused(state.session, id)) {
        state.storedFiles.delete(id);
        count(state, this.name, -1);
      }
    }
  }
}

/**
 * Waits for a file body's first bytes (or its end) before its tar entry starts, since the entry's
 * header promises its size: false when the blob is not in storage at all. Other errors (storage
 * down, a damaged blob) are thrown, and fail the export.
 */
async function readable(stream: Readable): Promise<boolean> {
  try {
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        stream.off('readable', ready).off('end', ready).off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      const ready = () => settle();
      stream.once('readable', ready).once('end', ready).once('error', settle);
    });
    // Until the entry reads it, a later failure is kept on the stream (its `errored`), which the
    // entry's read then throws: unheard, the 'error' event would end the process.
    stream.on('error', () => {});
    return true;
  } catch (err) {
    stream.destroy();
    if ((err as { code?: unknown } | null)?.code === 'ENOENT') return false;
    throw err;
  }
}
