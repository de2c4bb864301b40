/** Vault items (notes, documents, records) as items.jsonl. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExportRepository } from '../../repositories/export.repository.js';
import type { FilesRepository } from '../../repositories/files.repository.js';
import type { FoldersService } from '../../services/folders.service.js';
import type { ItemsService, NewItem } from '../../services/items.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ExportItem } from '../../../contract/export.js';
import { readLines } from '../lines.js';
import { count, warn, WARNINGS, type ExportOptions, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';
import { extractionFromApi } from '../../files/extraction/reasons.js';

const BATCH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class ItemsSection implements PortabilitySection {
  readonly name = 'items';
  constructor(
    private readonly items: ItemsService,
    private readonly counts: ExportRepository,
    private readonly folders: FoldersService,
    private readonly files: FilesRepository,
  ) {}

  count(session: SessionContext, options?: ExportOptions): Promise<number> {
    return this.counts.items(session.userId, options?.includeTrash ?? false);
  }

  async *#pages(session: SessionContext, deleted: boolean) {
    let cursor: string | undefined;
    do {
      const page = await this.items.list(session, { limit: BATCH, cursor, external: true }, deleted);
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
              const line: ExportItem = { ...item, deletedAt: deleted ? (item.updatedAt ?? exportedAt) : null };
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

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    let batch: ExportItem[] = [];
    const flush = async () => {
      const todo = batch;
      batch = [];
      if (todo.length) await this.#restore(todo, state);
    };
    try {
      for await (const item of readLines(body, name, ExportItem, 'item')) {
        batch.push(item);
        if (batch.length >= BATCH) await flush();
      }
    } catch (err) {
      // A bad line or a cut archive fails the job; what was read before it is kept, as documented.
      await flush().catch(() => {});
      throw err;
    }
    await flush();
  }

  async #restore(batch: ExportItem[], state: ImportState): Promise<void> {
    const { session } = state;
    for (const i of batch) warnMissing(i, state);
    // Importing back into the account it came from: those items are already here (not counted).
    const present = await this.counts.existingItemIds(
      session.userId,
      batch.map((i) => i.id).filter((id) => UUID.test(id)),
    );
    const todo = batch.filter((i) => {
      if (!present.has(i.id)) return true;
      state.itemIds.set(i.id, i.id);
      return false;
    });
    const inputs: NewItem[] = todo.map((i) => {
      const data = i.data ? withFileIds(i.data, state.fileIds) : undefined;
      const changedAt = exportedTimes(i)?.updatedAt;
      return {
        kind: i.kind,
        source: i.source,
        type: i.type,
        title: i.title,
        text: i.text,
        tags: i.tags,
        occurredAt: i.occurredAt,
        ...(data ? { data } : {}),
        ...(i.fileId ? { fileId: state.fileIds.get(i.fileId) ?? null } : {}),
        ...(i.fileId && extractionFromApi(i.extraction) ? { extraction: extractionFromApi(i.extraction) } : {}),
        // An imported record keeps its source identity, so the source's next import finds it. Other
        // items get a stable identity per exported item: a second import of the same export is a
        // no-op. Either way an import of a newer copy is an update, and of an older one (the stored
        // item changed since) leaves it be.
        external: {
          ...(i.external ?? { id: `export:${i.id}`, version: createHash('sha256').update(JSON.stringify(i)).digest('base64url') }),
          restored: changedAt ? { changedAt } : {},
        },
      };
    });
    // One result per input kept, by its index: of lines sharing an identity (an id repeated in a
    // hand-edited export) only one is kept.
    const results = new Map((inputs.length ? await this.items.createMany(session, inputs) : []).map((r) => [r.index, r]));
    const byFolder = new Map<string, string[]>();
    const times: Array<{ id: string; createdAt: Date; updatedAt: Date }> = [];
    const links: Array<{ itemId: string; fileId: string }> = [];
    let added = 0;
    for (const [idx, i] of todo.entries()) {
      const r = results.get(idx);
      if (!r) continue;
      state.itemIds.set(i.id, r.item.id);
      const folderId = i.folderId ? state.folderIds.get(i.folderId) : undefined;
      // An older copy leaves the stored item where it is, as it leaves its content.
      if (folderId && !r.older) byFolder.set(folderId, [...(byFolder.get(folderId) ?? []), r.item.id]);
      // Only what is new or changed counts as imported; an item already here as exported does not.
      if (r.status === 'unchanged') continue;
      added++;
      for (const fileId of attachmentIds(inputs[idx]!.data)) links.push({ itemId: r.item.id, fileId });
      const at = exportedTimes(i);
      // An updated item's content is the copy's: so is its last change, which orders later copies.
      if (r.status === 'updated') {
        if (at) times.push({ id: r.item.id, createdAt: new Date(r.item.createdAt), updatedAt: at.updatedAt });
        continue;
      }
      if (i.deletedAt) await this.items.trash(session, r.item.id);
      if (at) times.push({ id: r.item.id, ...at });
    }
    await this.files.linkItems(session.userId, links);
    await this.counts.restoreTimes(session.userId, times);
    for (const [folderId, ids] of byFolder) await this.folders.fileItems(session, ids, folderId);
    count(state, this.name, added);
    state.progress(batch.length);
  }
}

/**
 * Counts what a line points at that the export did not hold: its file, attachments or folder.
 * The item is restored all the same, without them (as the lines before this check did).
 */
function warnMissing(i: ExportItem, state: ImportState): void {
  if (i.fileId && !state.fileIds.has(i.fileId)) warn(state, WARNINGS.itemFile);
  const own = i.fileId ?? undefined;
  warn(state, WARNINGS.attachment, attachmentIds(i.data).filter((id) => id !== own && !state.fileIds.has(id)).length);
  if (i.folderId && !state.folderIds.has(i.folderId)) warn(state, WARNINGS.itemFolder);
}

/** A record's attachments (`data.files`) pointed at the files as stored here, not as exported. */
function withFileIds(data: Record<string, unknown>, fileIds: Map<string, string>): Record<string, unknown> {
  if (!Array.isArray(data.files)) return data;
  const files = (data.files as unknown[]).map((f) => {
    const id = (f as { fileId?: unknown } | null)?.fileId;
    const here = typeof id === 'string' ? fileIds.get(id) : undefined;
    return here ? { ...(f as object), fileId: here } : f;
  });
  return { ...data, files };
}

function attachmentIds(data: Record<string, unknown> | undefined): string[] {
  const files = Array.isArray(data?.files) ? (data.files as unknown[]) : [];
  return files.flatMap((f) => {
    const id = (f as { fileId?: unknown } | null)?.fileId;
    return typeof id === 'string' && UUID.test(id) ? [id] : [];
  });
}

/** Earliest and latest instants taken from an export: anything else is the restore time instead. */
const EARLIEST = Date.UTC(1970, 0, 1);
const SLACK_MS = 24 * 3600 * 1000;

/**
 * The item's own creation and last change, when the export has them as real instants no later
 * than now; a last change before the creation is read as the creation.
 */
function exportedTimes(i: ExportItem): { createdAt: Date; updatedAt: Date } | undefined {
  const latest = Date.now() + SLACK_MS;
  const valid = (v: string | undefined) => {
    const t = v ? Date.parse(v) : NaN;
    return Number.isFinite(t) && t >= EARLIEST && t <= latest ? t : undefined;
  };
  const created = valid(i.createdAt);
  if (created === undefined) return undefined;
  const updated = valid(i.updatedAt);
  return { createdAt: new Date(created), updatedAt: new Date(updated !== undefined && updated >= created ? updated : created) };
}
