import type { Transaction } from 'kysely';
import { itemVersion, type ItemPayload, type ItemVersionPayload } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import type { DB } from '../db/types.js';
import { notFound } from '../errors.js';
import type { ItemsRepository } from '../repositories/items.repository.js';
import type { VersionsRepository } from '../repositories/versions.repository.js';
import type { SessionContext } from './keyring.js';
import type { Item, ItemPatch, ItemRow, ItemsService } from './items.service.js';
import type { VersionSummary } from '../../contract/index.js';
import { diffLines, mergeTags, mergeText, mergeValue, type LineChange } from './merge.js';

type VersionPayload = ItemVersionPayload;

/**
 * Version history of items: every save keeps the state it replaces, sealed under the item's row
 * key with its own AAD (table `item_versions`, item id, version), and pruned by count and age.
 * A version points at the file the item had; file bytes are never copied.
 */
export class HistoryService {
  constructor(
    private readonly versions: VersionsRepository,
    private readonly itemsRepo: ItemsRepository,
    private readonly items: ItemsService,
    private readonly opts: { maxVersions: number; maxAgeDays: number; now?: () => Date },
  ) {}

  #open(session: SessionContext, row: { item_id: string; version: number; ciphertext: Uint8Array }): VersionPayload {
    return itemVersion.open(session.keys, { userId: session.userId, id: row.item_id, version: row.version }, asBuffer(row.ciphertext));
  }

  /** Called by ItemsService.update inside the save's transaction. */
  async archive(session: SessionContext, row: ItemRow, payload: ItemPayload, trx: Transaction<DB>): Promise<void> {
    if (this.opts.maxVersions <= 0) return;
    // The readable type code lives in the payload (rows sealed before 0011 carried it in legacy_type).
    const sealed: VersionPayload = {
      ...payload,
      type: payload.type ?? row.legacy_type ?? null,
      occurredAt: row.occurred_at ? new Date(row.occurred_at).toISOString() : null,
    };
    const now = this.opts.now?.() ?? new Date();
    await this.versions.insertAndPrune(
      {
        item_id: row.id,
        user_id: session.userId,
        version: row.version,
        file_id: row.file_id,
        ciphertext: itemVersion.seal(session.keys, { userId: session.userId, id: row.id, version: row.version }, sealed),
        saved_at: row.updated_at,
      },
      this.opts.maxVersions,
      new Date(now.getTime() - this.opts.maxAgeDays * 86_400_000),
      trx,
    );
  }

  async payloadAt(session: SessionContext, itemId: string, version: number, trx: Transaction<DB>): Promise<VersionPayload | null> {
    const row = await this.versions.get(session.userId, itemId, version, trx);
    return row ? this.#open(session, row) : null;
  }

  merge(
    base: VersionPayload | (ItemPayload & { occurredAt: string | null }),
    current: ItemPayload & { occurredAt: string | null },
    mine: ItemPatch,
  ): ItemPatch | null {
    const out: ItemPatch = {};
    if (mine.title !== undefined) {
      const r = mergeValue(base.title, mine.title, current.title);
      if (!r) return null;
      out.title = r.value;
    }
    if (mine.text !== undefined) {
      const text = mergeText(base.text, mine.text, current.text);
      if (text === null) return null;
      out.text = text;
    }
    if (mine.tags !== undefined) out.tags = mergeTags(base.tags, mine.tags, current.tags);
    if (mine.occurredAt !== undefined) {
      const r = mergeValue<string | null>(base.occurredAt, mine.occurredAt, current.occurredAt, (a, b) =>
        a && b ? new Date(a).getTime() === new Date(b).getTime() : a === b,
      );
      if (!r) return null;
      out.occurredAt = r.value;
    }
    return out;
  }

  /** The current version first, then the kept earlier ones, newest first. */
  async list(session: SessionContext, itemId: string): Promise<VersionSummary[]> {
    const current = await this.itemsRepo.get(session.userId, itemId);
    if (!current || current.deleted_at) throw notFound();
    const payload = this.items.open(session.keys, current);
    const who = (p: ItemPayload): VersionSummary['savedBy'] => (p.savedBy ? (p.savedBy === session.sessionId ? 'this' : 'other') : null);
    const rows = await this.versions.list(session.userId, itemId);
    return [
      { version: current.version, title: payload.title, updatedAt: current.updated_at.toISOString(), current: true, savedBy: who(payload) },
      ...rows
        .filter((r) => r.version < current.version)
        .map((r) => {
          const p = this.#open(session, r);
          return { version: r.version, title: p.title, updatedAt: new Date(r.saved_at).toISOString(), current: false, savedBy: who(p) };
        }),
    ];
  }

  /** The item as it was at `version` (the current item for the current version). */
  async get(session: SessionContext, itemId: string, version: number): Promise<Item> {
    const current = await this.itemsRepo.get(session.userId, itemId);
    if (!current || current.deleted_at) throw notFound();
    if (version === current.version) return this.items.toItem(current, this.items.open(session.keys, current));
    const row = await this.versions.get(session.userId, itemId, version);
    if (!row) throw notFound('Version');
    const p = this.#open(session, row);
    return this.items.toItem(
      { ...current, version: row.version, occurred_at: p.occurredAt ? new Date(p.occurredAt) : null, file_id: row.file_id, updated_at: new Date(row.saved_at) },
      p,
    );
  }

  /** What changed from `version` to the current one: title, tags, the date when it moved, and a line diff of the text. */
  async diff(session: SessionContext, itemId: string, version: number) {
    const [old, now] = await Promise.all([this.get(session, itemId, version), this.items.get(session, itemId)]);
    return {
      from: old.version,
      to: now.version,
      title: { before: old.title, after: now.title },
      tags: { removed: old.tags.filter((t) => !now.tags.includes(t)), added: now.tags.filter((t) => !old.tags.includes(t)) },
      ...(old.occurredAt !== now.occurredAt ? { occurredAt: { before: old.occurredAt, after: now.occurredAt } } : {}),
      text: diffLines(old.text, now.text),
    } satisfies { text: LineChange[] } & Record<string, unknown>;
  }

  /** Saves an earlier version's content as a new version (the current one goes to history). */
  async restore(session: SessionContext, itemId: string, version: number, baseVersion?: number): Promise<Item> {
    const old = await this.get(session, itemId, version);
    return this.items.update(session, itemId, { title: old.title, text: old.text, tags: old.tags, occurredAt: old.occurredAt, baseVersion });
  }
}
