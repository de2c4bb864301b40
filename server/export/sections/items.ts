/** Vault items (notes, documents, records) as items.jsonl. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExportRepository } from '../../repositories/export.repository.js';
import type { FoldersService } from '../../services/folders.service.js';
import type { ItemsService, NewItem } from '../../services/items.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ExportItem } from '../../../contract/export.js';
import { readJsonLines } from '../lines.js';
import { count, type ExportOptions, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';
import { extractionFromApi } from '../../files/extraction/reasons.js';

const BATCH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

  async import(_name: string, body: Readable, state: ImportState): Promise<void> {
    let batch: ExportItem[] = [];
    const flush = async () => {
      if (batch.length) await this.#restore(batch, state);
      batch = [];
    };
    for await (const line of readJsonLines(body)) {
      batch.push(ExportItem.parse(line));
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  }

  async #restore(batch: ExportItem[], state: ImportState): Promise<void> {
    const { session } = state;
    // Importing back into the account it came from: those items are already here.
    const present = await this.counts.existingItemIds(
      session.userId,
      batch.map((i) => i.id).filter((id) => UUID.test(id)),
    );
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
      ...(i.fileId && extractionFromApi(i.extraction) ? { extraction: extractionFromApi(i.extraction) } : {}),
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
