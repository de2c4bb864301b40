/** The contract every part of an export implements, and what an import run carries between parts. */
import type { Readable } from 'node:stream';
import type { SessionContext } from '../../services/keyring.js';
import type { ExportFile } from '../../../contract/export.js';

/** Where a section writes: named entries of a tar that is being streamed out. */
export interface ExportWriter {
  /** An entry of known size, streamed through (file bodies). */
  entry(name: string, size: number, body: AsyncIterable<unknown> | Iterable<unknown>): Promise<void>;
  /** A JSON-lines entry; returns the number of lines written. */
  jsonl(name: string, lines: AsyncIterable<unknown> | Iterable<unknown>): Promise<number>;
  /**
   * Something the section listed but could not write (a file whose blob is gone from storage):
   * left out, and named by id in `missing.jsonl` at the end of the export.
   */
  missing(section: string, id: string): void;
}

/** What the person asked to export. */
export interface ExportOptions {
  /** Items in the trash too (default no); the manifest records the choice. */
  includeTrash: boolean;
}

/** What one import run has learnt so far: ids in the export mapped to ids in this account. */
export interface ImportState {
  session: SessionContext;
  fileIds: Map<string, string>;
  fileMeta: Map<string, ExportFile>;
  itemIds: Map<string, string>;
  folderIds: Map<string, string>;
  /**
   * Files this run stored that were not in the account before: those no restored item points at
   * by the end (an older export's trashed file, a run that failed before the items) are removed.
   */
  storedFiles: Set<string>;
  /** What this run added per section, for the job result: records already here count nothing. */
  imported: Record<string, number>;
  /**
   * What the export promised but did not hold (a file it lists, an item's folder), counted per
   * reason ({@link WARNINGS}): the restore goes on without it, and the job result says so.
   */
  warnings: Record<string, number>;
  /** When the export was made (its manifest's `created`), if that is a real instant. */
  exportedAt?: Date;
  progress(done: number): void;
}

/**
 * One part of a vault (items, files, chats, health series) as it leaves and comes back.
 * Sections run in the order given to ExportService; an importer sees their entries in the same
 * order, so a later section may rely on the id maps an earlier one filled in.
 */
export interface PortabilitySection {
  readonly name: string;
  count(session: SessionContext, options?: ExportOptions): Promise<number>;
  export(session: SessionContext, out: ExportWriter, options?: ExportOptions): Promise<void>;
  accepts(entryName: string): boolean;
  import(entryName: string, body: Readable, state: ImportState): Promise<void>;
  /**
   * Runs once the tar has been read, whether the run succeeded or failed (`ok`), before the
   * counts are reported: the place to undo what is useless without the rest of the export.
   */
  finish?(state: ImportState, ok: boolean): Promise<void>;
}

/** Adds `n` (may be negative: something taken back) to what a section imported; none is no entry. */
export const count = (state: ImportState, section: string, n = 1) => {
  if (!n) return;
  const total = (state.imported[section] ?? 0) + n;
  if (total) state.imported[section] = total;
  else delete state.imported[section];
};

/**
 * Why part of an export could not be restored as it was listed: the keys of the job result's
 * warnings. Counts and reasons only: never a name, title or id from the export.
 */
export const WARNINGS = {
  fileNotHeld: 'files the export lists but does not hold (not restored)',
  fileSize: 'files whose size differs from what the export lists (restored as they are)',
  itemFile: 'items whose file the export does not hold (restored without it)',
  attachment: 'record attachments the export does not hold (not restored)',
  itemFolder: 'items whose folder the export does not hold (restored outside any folder)',
  parentFolder: 'folders whose parent the export does not hold (restored at the top level)',
  preferenceKept: 'preferences changed after the export was made (kept as they are)',
} as const;

/** Adds `n` to the count of one {@link WARNINGS} reason. */
export const warn = (state: ImportState, reason: (typeof WARNINGS)[keyof typeof WARNINGS], n = 1) => {
  if (n > 0) state.warnings[reason] = (state.warnings[reason] ?? 0) + n;
};
