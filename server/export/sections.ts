import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExportRepository } from '../repositories/export.repository.js';
import type { FilesRepository } from '../repositories/files.repository.js';
import type { FilesService } from '../services/files.service.js';
import type { FoldersService } from '../services/folders.service.js';
import type { ItemsService, NewItem } from '../services/items.service.js';
import type { SessionContext } from '../services/keyring.js';
import {
  ExportFileSchema,
  ExportFolderSchema,
  ExportItemSchema,
  FILE_ENTRY,
  fileEntryName,
  type ExportFile,
  type ExportFolder,
  type ExportItem,
} from './format.js';
import { readJsonLines } from './lines.js';

/** Where a section writes: named entries of a tar that is being streamed out. */
export interface ExportWriter {
  /** An entry of known size, streamed through (file bodies). */
  entry(name: string, size: number, body: AsyncIterable<unknown> | Iterable<unknown>): Promise<void>;
  /** A JSON-lines entry; returns the number of lines written. */
  jsonl(name: string, lines: AsyncIterable<unknown> | Iterable<unknown>): Promise<number>;
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
  /** Restored (or already present) records per section, for the job result. */
  imported: Record<string, number>;
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
}

const count = (state: ImportState, section: string, n = 1) => {
  state.imported[section] = (state.imported[section] ?? 0) + n;
};

export class FilesSection implements PortabilitySection {
  readonly name = 'files';
  constructor(
    private readonly files: FilesService,
    private readonly repo: FilesRepository,
    private readonly counts: ExportRepository,
  ) {}

  count(session: SessionContext): Promise<number> {
    return this.counts.files(session.userId);
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const ids = (await this.repo.listIds(session.userId)).map((r) => r.id);
    const metas: ExportFile[] = [];
    // Metadata first (ids and names only, small), so the importer knows each file's type
    // before its bytes arrive.
    for (const id of ids) {
      const f = await this.files.describe(session, id);
      if (f) metas.push({ id, name: f.meta.name, contentType: f.meta.contentType, size: f.size });
    }
    await out.jsonl('files.jsonl', metas);
    for (const m of metas) {
      const f = await this.files.download(session, m.id);
      await out.entry(fileEntryName(m.id, m.name), f.size, f.stream);
    }
  }

  accepts(name: string): boolean {
    return name === 'files.jsonl' || FILE_ENTRY.test(name);
  }

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    if (name === 'files.jsonl') {
      for await (const line of readJsonLines(body)) {
        const f = ExportFileSchema.parse(line);
        state.fileMeta.set(f.id, f);
      }
      return;
    }
    const oldId = FILE_ENTRY.exec(name)![1]!;
    const meta = state.fileMeta.get(oldId);
    const fileName = meta?.name ?? name.slice(name.lastIndexOf('/') + 1);
    const r = await this.files.importFile(state.session, { stream: body, name: fileName, contentType: meta?.contentType });
    state.fileIds.set(oldId, r.fileId);
    count(state, this.name);
    state.progress(1);
  }
}

const BATCH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The folder tree, parents before children, so an importer can rebuild it in one pass. */
export class FoldersSection implements PortabilitySection {
  readonly name = 'folders';
  constructor(private readonly folders: FoldersService) {}

  async count(session: SessionContext): Promise<number> {
    return (await this.folders.list(session)).length;
  }

  async export(session: SessionContext, out: ExportWriter): Promise<void> {
    const all = await this.folders.list(session);
    const children = new Map<string | null, typeof all>();
    for (const f of all) children.set(f.parentId, [...(children.get(f.parentId) ?? []), f]);
    const ordered: ExportFolder[] = [];
    const queue = [...(children.get(null) ?? [])];
    while (queue.length) {
      const f = queue.shift()!;
      ordered.push({ id: f.id, name: f.name, parentId: f.parentId });
      queue.push(...(children.get(f.id) ?? []));
    }
    await out.jsonl('folders.jsonl', ordered);
  }

  accepts(name: string): boolean {
    return name === 'folders.jsonl';
  }

  async import(_name: string, body: Readable, state: ImportState): Promise<void> {
    const here = await this.folders.list(state.session);
    const ids = new Set(here.map((f) => f.id));
    // Folders merge by path: a folder of the same name under the same parent is the same folder,
    // so importing an export twice (or into the account it came from) adds none.
    const byPath = new Map(here.map((f) => [`${f.parentId ?? ''}|${f.name}`, f.id]));
    for await (const line of readJsonLines(body)) {
      const f = ExportFolderSchema.parse(line);
      const parentId = f.parentId ? state.folderIds.get(f.parentId) ?? null : null;
      const known = ids.has(f.id) ? f.id : byPath.get(`${parentId ?? ''}|${f.name}`);
      if (known) {
        state.folderIds.set(f.id, known);
      } else {
        const created = await this.folders.create(state.session, { name: f.name, parentId });
        byPath.set(`${parentId ?? ''}|${f.name}`, created.id);
        state.folderIds.set(f.id, created.id);
      }
      count(state, this.name);
      state.progress(1);
    }
  }
}

export class ItemsSection implements PortabilitySection {
  readonly name = 'items';
  constructor(
    private readonly items: ItemsService,
    private readonly counts: ExportRepository,
    private readonly folders: FoldersService,
  ) {}

  count(session: SessionContext, options?: ExportOptions): Promise<number> {
    return this.counts.items(session.userId, options?.includeTrash ?? false);
  }

  async *#pages(session: SessionContext, deleted: boolean) {
    let cursor: string | undefined;
    do {
      const page = await this.items.list(session, { limit: BATCH, cursor }, deleted);
      yield page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  async export(session: SessionContext, out: ExportWriter, options?: ExportOptions): Promise<void> {
    const self = this;
    const exportedAt = new Date().toISOString();
    await out.jsonl(
      'items.jsonl',
      (async function* () {
        for (const deleted of options?.includeTrash ? [false, true] : [false]) {
          for await (const page of self.#pages(session, deleted)) {
            for (const item of page) {
              const line: ExportItem = { ...item, deletedAt: deleted ? item.updatedAt ?? exportedAt : null };
              yield line;
            }
          }
        }
      })(),
    );
  }

  accepts(name: string): boolean {
    return name === 'items.jsonl';
  }

  async import(_name: string, body: Readable, state: ImportState): Promise<void> {
    let batch: ExportItem[] = [];
    const flush = async () => {
      if (batch.length) await this.#restore(batch, state);
      batch = [];
    };
    for await (const line of readJsonLines(body)) {
      batch.push(ExportItemSchema.parse(line));
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  }

  async #restore(batch: ExportItem[], state: ImportState): Promise<void> {
    const { session } = state;
    // Importing back into the account it came from: those items are already here.
    const present = await this.counts.existingItemIds(session.userId, batch.map((i) => i.id).filter((id) => UUID.test(id)));
    const todo = batch.filter((i) => {
      if (!present.has(i.id)) return true;
      state.itemIds.set(i.id, i.id);
      count(state, this.name);
      return false;
    });
    const inputs: NewItem[] = todo.map((i) => ({
      kind: i.kind,
      source: i.source,
      type: i.type,
      title: i.title,
      text: i.text,
      tags: i.tags,
      occurredAt: i.occurredAt,
      ...(i.data ? { data: i.data } : {}),
      ...(i.fileId ? { fileId: state.fileIds.get(i.fileId) ?? null } : {}),
      // A stable identity per exported item makes a second import of the same export a no-op,
      // and an import of a newer export of the same vault an update.
      external: { id: `export:${i.id}`, version: createHash('sha256').update(JSON.stringify(i)).digest('base64url') },
    }));
    const results = inputs.length ? await this.items.createMany(session, inputs) : [];
    // Export ids are unique, so createMany keeps every input and answers in input order.
    const byFolder = new Map<string, string[]>();
    for (const [idx, i] of todo.entries()) {
      const r = results[idx];
      if (!r) continue;
      state.itemIds.set(i.id, r.item.id);
      const folderId = i.folderId ? state.folderIds.get(i.folderId) : undefined;
      if (folderId) byFolder.set(folderId, [...(byFolder.get(folderId) ?? []), r.item.id]);
      if (i.deletedAt && r.status === 'created') await this.items.trash(session, r.item.id);
    }
    for (const [folderId, ids] of byFolder) await this.folders.fileItems(session, ids, folderId);
    count(state, this.name, todo.length);
    state.progress(batch.length);
  }
}
