import { createHash, randomUUID } from 'node:crypto';
import { termFrequencies, DecryptError } from '../../crypto/index.js';
import * as codec from '../codec/index.js';
import type { ItemPayload } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import { badRequest, conflict, notFound, versionConflict } from '../errors.js';
import type { Transaction } from 'kysely';
import type { RecordInput } from '../../integrations/types.js';
import type { DB } from '../db/types.js';
import type { ItemsRepository, PageRow, TypeLookup } from '../repositories/items.repository.js';
import { pageTextBudget, type Bounded } from './page-text.js';
import type { KeyRing, SessionContext } from './keyring.js';
import { GroupCommit } from './group-commit.js';
import { couldBeSameResource } from './health/same-resource.js';
import { describeExtraction, type StoredExtraction } from '../files/extraction/reasons.js';
import { normalizeTag as normalizeTagText, type Item, type ItemKind, type ItemSource, type TextMode } from '../../contract/index.js';

/** The decrypted item as the API shows it: the contract's shape. */
export type { Item, ItemKind, ItemSource };

/** An edit as the API takes it. */
export interface ItemPatch {
  title?: string;
  text?: string;
  tags?: string[];
  occurredAt?: string | null;
  /** The version the edit started from; a stale one is a conflict. */
  baseVersion?: number;
  /** With a stale base: merge three-way with the current version when the edits do not overlap. */
  merge?: boolean;
  /** Move to this folder (null: out of any folder). Not a new version. */
  folderId?: string | null;
}

/** Item history and folders, as items see them (see ItemHistory and FoldersService). */
export interface ItemHooks {
  /** Keeps the state a save is about to replace; runs in the save's transaction. */
  archive(session: SessionContext, row: ItemRow, payload: ItemPayload, trx: Transaction<DB>): Promise<void>;
  /** The state of an earlier version, for a three-way merge; null when pruned. */
  payloadAt(session: SessionContext, itemId: string, version: number, trx: Transaction<DB>): Promise<(ItemPayload & { occurredAt: string | null }) | null>;
  /** Three-way merge of an edit made on `base` with the current state; null when they overlap. */
  merge(base: ItemPayload & { occurredAt: string | null }, current: ItemPayload & { occurredAt: string | null }, mine: ItemPatch): ItemPatch | null;
  /** Files the item in a folder of the same user (404 otherwise). */
  move(session: SessionContext, itemId: string, folderId: string | null, trx: Transaction<DB>): Promise<void>;
}

/** What {@link ItemsService.createMany} did with one input. */
export interface CreateResult {
  /** The input's position in the batch. */
  index: number;
  item: Item;
  status: 'created' | 'updated' | 'unchanged';
  /** Unchanged because the input is an older revision of the stored resource (or an older copy of the item). */
  older?: true;
  /** For an update: the replaced version's data. */
  previous?: ItemPayload['data'];
}

export interface NewItem {
  kind: ItemKind;
  source: ItemSource;
  type?: string | null;
  title: string;
  text: string;
  tags?: string[];
  occurredAt?: string | null;
  data?: Record<string, unknown>;
  fileId?: string | null;
  /** Items with a file: how its text was read (see FilesService.upload). */
  extraction?: StoredExtraction;
  /**
   * Integrations: the item's identity at its source, so a re-import never duplicates it. A
   * `placeholder` is stored only where nothing has that identity yet, and never replaces anything.
   * `restored` (a copy from an export, `changedAt` when it was last changed, where known): a
   * stored item changed since is newer and stays; one it replaces keeps what it had in its
   * history, as a person's save does.
   */
  external?: ExternalIdentity;
}

const trashed = () => conflict('This note is in the trash. Restore it from the trash to edit it.', 'item_trashed');

export interface ExternalIdentity {
  id: string;
  version: string;
  placeholder?: boolean;
  restored?: { changedAt?: Date };
  /** The identity an earlier version stored it under (RecordInput.legacyExternalId). */
  legacyId?: string;
}

/** An integration's record as an item to store; its source identity makes re-imports idempotent. */
export function itemFromRecord(r: RecordInput, extra: { data?: Record<string, unknown>; fileId?: string | null } = {}): NewItem {
  return {
    kind: r.kind,
    source: r.source,
    type: r.type,
    title: r.title,
    text: r.text,
    tags: r.tags,
    occurredAt: r.occurredAt,
    data: extra.data ?? r.data,
    fileId: extra.fileId ?? null,
    external: { id: r.externalId, version: r.externalVersion, placeholder: r.placeholder, ...(r.legacyExternalId ? { legacyId: r.legacyExternalId } : {}) },
  };
}

export type ItemRow = Pick<
  NonNullable<Awaited<ReturnType<ItemsRepository['get']>>>,
  'id' | 'user_id' | 'kind' | 'source' | 'legacy_type' | 'occurred_at' | 'version' | 'file_id' | 'ciphertext' | 'created_at' | 'updated_at'
> & { folder_id?: string | null };

const MAX_TAGS = 32;

/**
 * Tags compare case-insensitively; the first spelling used is the one shown. The API refuses a
 * tag over 64 characters; one from elsewhere (an import) is cut at 64 characters, never inside one.
 */
export function normalizeTag(tag: string): string {
  const n = normalizeTagText(tag);
  return n.length <= 64 ? n : [...n].slice(0, 64).join('');
}
/** Two tags are one when their keys match. */
export const tagKeyText = (tag: string) => normalizeTag(tag).toLowerCase();

export function cleanTags(tags: readonly string[] | undefined): string[] {
  const seen = new Map<string, string>();
  for (const t of tags ?? []) {
    const n = normalizeTag(t);
    if (n && !seen.has(n.toLowerCase())) seen.set(n.toLowerCase(), n);
  }
  if (seen.size > MAX_TAGS) throw badRequest(`At most ${MAX_TAGS} tags per item.`, 'too_many_tags');
  return [...seen.values()];
}

export const tagMac = (keys: KeyRing, tag: string) => codec.tag.blind(keys, tagKeyText(tag));

export const externalMac = (keys: KeyRing, source: string, externalId: string) => codec.externalId.blind(keys, source, externalId);

/** A readable type code as the repository looks it up (its MAC, and the code for rows not yet upgraded). */
export const typeLookup = (keys: KeyRing, code: string): TypeLookup => ({ mac: codec.item.blindType(keys, code), code });

function encodeCursor(row: { sort_at: Date; id: string }): string {
  return Buffer.from(`${row.sort_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { sortAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const sortAt = new Date(at ?? '');
  if (!id || Number.isNaN(sortAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) throw badRequest('Invalid cursor.', 'invalid_cursor');
  return { sortAt, id };
}

export function parseDate(value: string | null | undefined): Date | null {
  if (value == null) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badRequest('occurredAt must be an ISO 8601 date.', 'invalid_date');
  return d;
}

/** See {@link ItemsService.onTrashMove}. */
export type TrashListener = (session: SessionContext, item: Item, move: 'trashed' | 'restored') => Promise<void>;

type Inserts = Parameters<ItemsRepository['insertWithIndex']>[1];

/** A tag as the insert takes it: a random id, the name's MAC, the name sealed for that id. */
type TagRow = { id: string; nameMac: Buffer; ciphertext: Buffer };

/** Sealed tag rows one key ring keeps (see ItemsService.#sealedTags); a vault has a few dozen tags. */
const SEALED_TAGS_PER_RING = 256;

/**
 * Ciphertext bytes a page fetches at a time (a row larger than this is a batch of its own): with
 * the page's text budget, what bounds the memory one list or search answer takes, however large
 * its items are. A page of ordinary items needs no batch: their ciphertexts come with the page.
 */
export const CIPHERTEXT_BATCH_BYTES = 4 * 1024 * 1024;

/** A page's rows in consecutive batches of at most `maxBytes` of ciphertext, in page order. */
export function ciphertextBatches<R extends { ciphertext_bytes: number }>(rows: readonly R[], maxBytes: number): R[][] {
  const batches: R[][] = [];
  let batch: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    const n = Number(row.ciphertext_bytes);
    if (batch.length && bytes + n > maxBytes) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += n;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** How a page's items are opened: the text bound of the answer (none: whole texts), and a look at each whole item before it is cut. */
export interface OpenPageOptions {
  text?: TextMode;
  /** Each item with its source identity, where it has one (an export carries it). */
  external?: boolean;
  onOpen?: (item: Item, index: number) => void;
}

/** An item's identity at its source as an export carries it (see ItemPayload.externalId). */
export interface ItemExternal {
  external?: { id: string; version: string; placeholder?: true };
}

function withExternal<T extends Item>(item: T, payload: ItemPayload): T & ItemExternal {
  if (payload.externalId === undefined || payload.externalVersion === undefined) return item;
  const external = { id: payload.externalId, version: payload.externalVersion, ...(payload.externalPlaceholder ? { placeholder: true as const } : {}) };
  return { ...item, external };
}

/** What a pending read keeps of the text it may replace: enough to tell an edit, sealed with the item. */
const textBasis = (text: string) => createHash('sha256').update(text).digest('base64url');

export class ItemsService {
  #hooks?: ItemHooks;
  readonly #trashListeners: TrashListener[] = [];

  /**
   * Tag rows sealed under a session's key ring, by their MAC: only MACs and ciphertext, gone
   * with the ring. A row is inserted only when no tag with its MAC exists (its id is random and
   * its ciphertext is bound to that id), so reusing one is as good as sealing a new one, even
   * after the tag was deleted.
   */
  readonly #sealedTags = new WeakMap<KeyRing, Map<string, TagRow>>();

  /** Single new items from concurrent requests of one user share a statement and a commit. */
  readonly #singles: GroupCommit<Inserts[number]>;

  readonly #batchBytes: number;

  constructor(
    private readonly repo: ItemsRepository,
    opts: { ciphertextBatchBytes?: number } = {},
  ) {
    this.#batchBytes = opts.ciphertextBatchBytes ?? CIPHERTEXT_BATCH_BYTES;
    this.#singles = new GroupCommit((userId, entries) => this.repo.insertWithIndex(userId, entries));
  }

  /** History and folders are wired after construction: they read items through this service. */
  useHooks(hooks: ItemHooks): void {
    this.#hooks = hooks;
  }

  // ---- encryption of one row ----

  seal(keys: KeyRing, userId: string, id: string, version: number, payload: ItemPayload): Buffer {
    return codec.item.seal(keys, { userId, id, version }, payload);
  }

  /** The payload, with the type code of a row sealed before 0011 taken from its legacy column. */
  open(keys: KeyRing, row: Pick<ItemRow, 'id' | 'user_id' | 'version' | 'ciphertext' | 'legacy_type'>): ItemPayload {
    const payload = codec.item.open(keys, { userId: row.user_id, id: row.id, version: row.version }, asBuffer(row.ciphertext));
    if (payload.type === undefined) payload.type = row.legacy_type;
    return payload;
  }

  toItem(row: Omit<ItemRow, 'legacy_type'>, payload: ItemPayload): Item {
    const item: Item = {
      id: row.id,
      kind: row.kind as ItemKind,
      source: row.source as ItemSource,
      type: payload.type ?? null,
      title: payload.title,
      text: payload.text,
      tags: payload.tags,
      occurredAt: row.occurred_at ? new Date(row.occurred_at).toISOString() : null,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      version: row.version,
      folderId: row.folder_id ?? null,
    };
    if (row.file_id) {
      item.fileId = row.file_id;
      // Items stored before extraction was tracked: text means it was read, none means it was not.
      const stored = (payload.extraction as StoredExtraction | undefined) ?? (payload.text.trim() ? { status: 'ok' } : { status: 'none', code: 'no_text' });
      item.extraction = describeExtraction(stored);
    }
    if (payload.data) item.data = payload.data;
    return item;
  }

  /** Blind-index postings of a payload; the upgrade re-indexes rows with it too. */
  terms(keys: KeyRing, p: { title: string; text: string; tags: string[] }) {
    const tf = termFrequencies(`${p.title}\n${p.text}\n${p.tags.join('\n')}`);
    let count = 0;
    const terms = [...tf].map(([token, n]) => {
      count += n;
      return { token: codec.searchTerm.blind(keys, token), tf: n };
    });
    return { terms, count };
  }

  /**
   * `memo` shares one sealed row per tag across a batch: the insert keeps one row per tag
   * anyway, and an import of thousands of records with the same few tags otherwise pays a key
   * derivation and a seal for each. Across requests, the session's key ring keeps the rows it
   * sealed (see #sealedTags), so a create with a tag the user already has pays one MAC for it.
   */
  #tagRows(keys: KeyRing, userId: string, tags: string[], memo?: Map<string, TagRow>) {
    return tags.map((name) => {
      const known = memo?.get(tagKeyText(name));
      if (known) return known;
      const nameMac = tagMac(keys, name);
      let sealed = this.#sealedTags.get(keys);
      if (!sealed) this.#sealedTags.set(keys, (sealed = new Map()));
      const ringKey = `${userId}|${nameMac.toString('hex')}`;
      let row = sealed.get(ringKey);
      if (!row) {
        const id = randomUUID();
        row = { id, nameMac, ciphertext: codec.tag.seal(keys, { userId, id, version: 1 }, name) };
        if (sealed.size >= SEALED_TAGS_PER_RING) sealed.clear();
        sealed.set(ringKey, row);
      }
      memo?.set(tagKeyText(name), row);
      return row;
    });
  }

  // ---- commands ----

  async create(session: SessionContext, input: NewItem): Promise<Item> {
    const [result] = await this.createMany(session, [input]);
    return result!.item;
  }

  /**
   * Encrypts, indexes and stores items. New items go in as one statement per batch; items with
   * an `external` identity already stored come back unchanged at the same version or as a
   * placeholder, and at another version are updated in place (or left alone, `older`, when the
   * incoming one is an older revision of a FHIR resource). One result per input kept, in input
   * order; of inputs sharing an identity in one batch, only the one kept has a result.
   */
  async createMany(session: SessionContext, inputs: NewItem[]): Promise<CreateResult[]> {
    const { keys, userId } = session;
    const prepared = inputs.map((input) => {
      const tags = cleanTags(input.tags);
      const payload: ItemPayload = { title: input.title, text: input.text, tags, type: input.type ?? null };
      if (input.data) payload.data = input.data;
      if (input.extraction) payload.extraction = input.extraction;
      if (input.external) {
        payload.externalVersion = input.external.version;
        payload.externalId = input.external.id;
        if (input.external.placeholder) payload.externalPlaceholder = true;
      }
      const legacyId = input.external?.legacyId;
      return {
        input,
        payload,
        occurredAt: parseDate(input.occurredAt),
        mac: input.external ? externalMac(keys, input.source, input.external.id) : null,
        legacyMac: legacyId && legacyId !== input.external!.id ? externalMac(keys, input.source, legacyId) : null,
      };
    });
    const run = async (trx: Transaction<DB> | undefined, insert = (entries: Inserts) => this.repo.insertWithIndex(userId, entries, trx)) => {
      const macs = prepared.flatMap((p) => [p.mac, p.legacyMac].filter((m): m is Buffer => m !== null));
      const existing = new Map((await this.repo.findByExternalMacs(userId, macs, trx)).map((r) => [Buffer.from(r.external_mac!).toString('hex'), r]));
      const primaries = new Set(prepared.flatMap((p) => (p.mac ? [Buffer.from(p.mac).toString('hex')] : [])));
      /** Legacy rows already taken by an input of this batch: one stored record becomes one record. */
      const claimed = new Set<string>();
      const out: CreateResult[] = [];
      const inserts: Inserts = [];
      // The same source record twice in one batch (two versions in one file): the later is kept,
      // unless it is the same version, an older revision or a placeholder.
      const kept = new Map<string, number>();
      for (const [index, p] of prepared.entries()) {
        if (!p.mac) continue;
        const macHex = Buffer.from(p.mac).toString('hex');
        const before = kept.get(macHex);
        const earlier = before === undefined ? undefined : prepared[before]!;
        if (
          !earlier ||
          (!p.input.external!.placeholder &&
            earlier.payload.externalVersion !== p.payload.externalVersion &&
            !isOlderRevision(p.payload.data, earlier.payload.data))
        )
          kept.set(macHex, index);
      }
      const tagMemo = new Map<string, TagRow>();
      for (const [index, p] of prepared.entries()) {
        const macHex = p.mac ? Buffer.from(p.mac).toString('hex') : undefined;
        if (macHex && kept.get(macHex) !== index) continue;
        let row = macHex ? existing.get(macHex) : undefined;
        let old = row ? this.open(keys, row) : undefined;
        // A record stored under the identity this one had before FHIR ids named their server: it
        // is this one when it was stored without an origin and could be the same resource, and no
        // input of this batch has that identity as its own.
        let migrate = false;
        if (!row && p.legacyMac) {
          const legacyHex = Buffer.from(p.legacyMac).toString('hex');
          const candidate = existing.get(legacyHex);
          if (candidate && !claimed.has(candidate.id) && !primaries.has(legacyHex)) {
            const stored = this.open(keys, candidate);
            if (stored.externalId === p.input.external!.legacyId && couldBeSameResource(stored.data, p.payload.data)) {
              claimed.add(candidate.id);
              row = candidate;
              old = stored;
              migrate = true;
            }
          }
        }
        if (row && old) {
          const same = old.externalVersion === p.input.external!.version || p.input.external!.placeholder;
          const { restored } = p.input.external!;
          const older = !same && (isOlderRevision(p.payload.data, old.data) || (restored?.changedAt && row.updated_at > restored.changedAt));
          if ((same || older) && !migrate) {
            out.push({ index, item: this.toItem(row, old), status: 'unchanged', ...(older ? { older: true } : {}) });
            continue;
          }
          if (same || older) {
            // Only the identity moves: the stored content stays, now found under its origin.
            const payload: ItemPayload = { ...old, externalId: p.input.external!.id };
            const version = row.version + 1;
            await this.repo.update(
              userId,
              row.id,
              row.version,
              {
                version,
                ciphertext: this.seal(keys, userId, row.id, version, payload),
                type_mac: codec.item.blindType(keys, payload.type ?? null),
                external_mac: p.mac,
              },
              trx,
            );
            out.push({ index, item: this.toItem({ ...row, version }, payload), status: 'unchanged', ...(older ? { older: true } : {}) });
            continue;
          }
          if (restored && trx) await this.#hooks?.archive(session, row, old, trx);
          const version = row.version + 1;
          const { terms, count } = this.terms(keys, p.payload);
          await this.repo.update(
            userId,
            row.id,
            row.version,
            {
              version,
              ciphertext: this.seal(keys, userId, row.id, version, p.payload),
              occurred_at: p.occurredAt,
              sort_at: p.occurredAt ?? row.created_at,
              type_mac: codec.item.blindType(keys, p.payload.type),
              term_count: count,
              ...(migrate ? { external_mac: p.mac } : {}),
            },
            trx,
          );
          await this.repo.replaceTerms(userId, row.id, terms, trx);
          await this.repo.setItemTags(row.id, await this.repo.upsertTags(userId, this.#tagRows(keys, userId, p.payload.tags), trx), trx);
          const updated = { ...row, version, occurred_at: p.occurredAt, updated_at: new Date() };
          out.push({ index, item: this.toItem(updated, p.payload), status: 'updated', previous: old.data });
          continue;
        }
        const id = randomUUID();
        const now = new Date();
        const { terms, count } = this.terms(keys, p.payload);
        const newRow = {
          id,
          user_id: userId,
          kind: p.input.kind,
          source: p.input.source,
          type_mac: codec.item.blindType(keys, p.payload.type),
          occurred_at: p.occurredAt,
          sort_at: p.occurredAt ?? now,
          version: 1,
          term_count: count,
          file_id: p.input.fileId ?? null,
          external_mac: p.mac,
          ciphertext: this.seal(keys, userId, id, 1, p.payload),
          created_at: now,
          updated_at: now,
          deleted_at: null,
        };
        inserts.push({ row: newRow, terms, tags: this.#tagRows(keys, userId, p.payload.tags, tagMemo) });
        out.push({ index, item: this.toItem(newRow, p.payload), status: 'created' });
      }
      await insert(inserts);
      return out;
    };
    // A single new item is one atomic statement, shared with other requests' (GroupCommit);
    // anything more needs a transaction.
    if (prepared.length === 1 && !prepared[0]!.mac) return run(undefined, (entries) => this.#singles.submit(userId, entries[0]!));
    return this.repo.transaction((trx) => run(trx));
  }

  async get(session: SessionContext, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Item> {
    const row = await this.repo.get(session.userId, id);
    if (!row || (row.deleted_at && !opts.includeDeleted)) throw notFound();
    return this.toItem(row, this.open(session.keys, row));
  }

  /** Decrypts rows the caller already fetched (search, chat retrieval). */
  async getMany(session: SessionContext, ids: string[]): Promise<Item[]> {
    const rows = await this.repo.getMany(session.userId, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row ? [this.toItem(row, this.open(session.keys, row))] : [];
    });
  }

  /** Live items' rows by id, without ciphertexts, to open with {@link openPage}. */
  pageRowsOf(session: SessionContext, ids: string[]): Promise<PageRow[]> {
    return this.repo.pageRows(session.userId, ids);
  }

  /** Decrypted recent items by readable type codes (looked up by their MACs), tags or kinds (see ItemsRepository.recent). */
  async recent(session: SessionContext, q: { types?: string[]; tags?: string[]; kinds?: string[]; from?: Date; to?: Date; limit: number }): Promise<Item[]> {
    const rows = await this.repo.recent({
      userId: session.userId,
      types: q.types?.map((t) => typeLookup(session.keys, t)),
      tagMacs: q.tags?.map((t) => tagMac(session.keys, t)),
      kinds: q.kinds,
      from: q.from,
      to: q.to,
      limit: q.limit,
    });
    return rows.map((r) => this.toItem(r, this.open(session.keys, r)));
  }

  /**
   * A page of items, `text` bounding their texts as the answer does (see pageTextBudget; none:
   * whole texts). The page's rows carry only their small ciphertexts; {@link openPage} fetches the
   * others and opens them.
   */
  async list(
    session: SessionContext,
    q: {
      kind?: string;
      source?: string;
      type?: string;
      tag?: string;
      from?: string;
      to?: string;
      limit: number;
      cursor?: string;
      folderIds?: string[] | null;
      text?: TextMode;
      /** Each item with its source identity, where it has one (see OpenPageOptions). */
      external?: boolean;
    },
    deleted = false,
  ): Promise<{ items: Array<Bounded<Item> & ItemExternal>; nextCursor: string | null }> {
    const rows = await this.repo.list({
      userId: session.userId,
      kind: q.kind,
      source: q.source,
      type: q.type !== undefined ? typeLookup(session.keys, q.type) : undefined,
      tagMac: q.tag ? tagMac(session.keys, q.tag) : undefined,
      from: parseDate(q.from) ?? undefined,
      to: q.to ? endOfDayIfDate(q.to) : undefined,
      deleted,
      folderIds: q.folderIds,
      limit: q.limit + 1,
      cursor: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    const page = rows.slice(0, q.limit);
    const items = await this.openPage(session, page, { text: q.text, external: q.external });
    return { items: items.filter((i) => i !== null), nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!) : null };
  }

  /**
   * A page's rows as items, in page order (null for a row deleted since the page was selected).
   * Ciphertexts larger than the page query carries inline are fetched in batches of at most the
   * batch bound, and each item is cut to the page's text bound as soon as it is opened: the page
   * never holds more than its small ciphertexts, a batch of large ones, the budget's worth of
   * text and the one item being opened. `onOpen` sees each whole item first (a search snippet is
   * made from the whole text).
   */
  async openPage(session: SessionContext, rows: readonly PageRow[], opts: OpenPageOptions = {}): Promise<Array<(Bounded<Item> & ItemExternal) | null>> {
    const fit = opts.text ? pageTextBudget(opts.text) : (item: Item): Bounded<Item> => item;
    const items = new Array<(Bounded<Item> & ItemExternal) | null>(rows.length).fill(null);
    // Small ciphertexts came with the page; the others are fetched a bounded batch at a time, each
    // batch when the walk reaches its first row: items are opened and cut in page order, which is
    // the order the text budget is spent in.
    const batches = ciphertextBatches(
      rows.filter((r) => !r.ciphertext),
      this.#batchBytes,
    );
    const batchFrom = new Map(batches.map((b) => [b[0]!.id, b.map((row) => row.id)]));
    let sealed = new Map<string, ItemRow>();
    for (const [index, row] of rows.entries()) {
      const ids = batchFrom.get(row.id);
      if (ids) sealed = await this.#sealedRows(session.userId, ids);
      const full = row.ciphertext ? { ...row, ciphertext: row.ciphertext } : sealed.get(row.id);
      if (!full) continue;
      // Each ciphertext is let go as soon as it is opened.
      sealed.delete(row.id);
      const payload = this.open(session.keys, full);
      const item = opts.external ? withExternal(this.toItem(full, payload), payload) : this.toItem(full, payload);
      opts.onOpen?.(item, index);
      items[index] = fit(item);
    }
    return items;
  }

  /** A batch's rows with their ciphertexts, by id: the map is all that holds them, so each goes once taken out. */
  async #sealedRows(userId: string, ids: string[]): Promise<Map<string, ItemRow>> {
    return new Map((await this.repo.withCiphertexts(userId, ids)).map((r) => [r.id, r]));
  }

  /** An edit of an item in the trash is refused as such (409 item_trashed), so an editor left open can say how to get it back. */
  async update(session: SessionContext, id: string, input: ItemPatch): Promise<Item> {
    const { keys, userId } = session;
    return this.repo.transaction(async (trx) => {
      if (input.folderId !== undefined) {
        if (!this.#hooks) throw badRequest('Folders are not available.', 'not_supported');
        const seen = await this.repo.get(userId, id, trx);
        if (!seen) throw notFound();
        if (seen.deleted_at) throw trashed();
        // Before the item's row lock: the move takes the user's folder tree lock first, in the
        // order a folder delete takes them (tree, then the items it trashes).
        await this.#hooks.move(session, id, input.folderId, trx);
      }
      // Locked until the save commits: concurrent saves of the item wait and apply in turn.
      const row = await this.repo.getForUpdate(userId, id, trx);
      if (!row) throw notFound();
      if (row.deleted_at) throw trashed();
      const old = this.open(keys, row);
      const edits = input.title !== undefined || input.text !== undefined || input.tags !== undefined || input.occurredAt !== undefined;
      const unchanged = () => this.toItem({ ...row, folder_id: input.folderId === undefined ? row.folder_id : input.folderId }, old);
      if (!edits) return unchanged();
      let patch = input;
      if (input.baseVersion !== undefined && input.baseVersion !== row.version) {
        const current = () => versionConflict(this.toItem(row, old));
        if (!input.merge || !this.#hooks || input.baseVersion > row.version) throw current();
        const base = await this.#hooks.payloadAt(session, id, input.baseVersion, trx);
        const theirs = { ...old, occurredAt: row.occurred_at ? new Date(row.occurred_at).toISOString() : null };
        const merged = base && this.#hooks.merge(base, theirs, input);
        if (!merged) throw current();
        patch = merged;
      }
      const payload: ItemPayload = {
        ...old,
        title: patch.title ?? old.title,
        text: patch.text ?? old.text,
        tags: patch.tags ? cleanTags(patch.tags) : old.tags,
        savedBy: session.sessionId,
      };
      const occurredAt = patch.occurredAt === undefined ? row.occurred_at : parseDate(patch.occurredAt);
      // A save that changes nothing (an editor saving on blur) is not a version of its own.
      const same =
        payload.title === old.title &&
        payload.text === old.text &&
        payload.tags.length === old.tags.length &&
        payload.tags.every((t, i) => t === old.tags[i]) &&
        (occurredAt?.getTime() ?? null) === (row.occurred_at ? new Date(row.occurred_at).getTime() : null);
      if (same) return unchanged();
      const version = row.version + 1;
      const { terms, count } = this.terms(keys, payload);
      const ok = await this.repo.update(
        userId,
        id,
        row.version,
        {
          version,
          ciphertext: this.seal(keys, userId, id, version, payload),
          occurred_at: occurredAt,
          sort_at: occurredAt ?? row.created_at,
          type_mac: codec.item.blindType(keys, payload.type),
          term_count: count,
        },
        trx,
      );
      if (!ok) throw conflict('This item was changed at the same time. Reload and try again.', 'edit_conflict');
      await this.#hooks?.archive(session, row, old, trx);
      await this.repo.replaceTerms(userId, id, terms, trx);
      if (patch.tags) await this.repo.setItemTags(id, await this.repo.upsertTags(userId, this.#tagRows(keys, userId, payload.tags), trx), trx);
      const updated = (await this.repo.get(userId, id, trx))!;
      return this.toItem(updated, payload);
    });
  }

  /**
   * Records how the item's file was read: its extracted text (re-indexed for search) and status.
   * New text is a new version (whatever is keyed on the version, e.g. embeddings, sees it); a
   * status alone is sealed at the same version. Marking it pending notes the text the read may
   * replace: text the person edited after that is kept, the extraction saying `text_edited`
   * (reading it again replaces it on purpose). Title and tags are never the extraction's.
   */
  async applyExtraction(
    session: SessionContext,
    id: string,
    change: { extraction: StoredExtraction; text?: string; data?: Record<string, unknown> },
  ): Promise<Item | null> {
    const { keys, userId } = session;
    for (let attempt = 0; attempt < 5; attempt++) {
      const done = await this.repo.transaction(async (trx) => {
        const row = await this.repo.get(userId, id, trx);
        if (!row) return null;
        const old = this.open(keys, row);
        const started = old.extraction as StoredExtraction | undefined;
        // A read queued before bases were recorded has none, and replaces the text as it did.
        const edited =
          change.text !== undefined &&
          change.text !== old.text &&
          started?.status === 'pending' &&
          started.basis !== undefined &&
          started.basis !== textBasis(old.text);
        let extraction = change.extraction;
        if (extraction.status === 'pending') extraction = { ...extraction, basis: textBasis(old.text) };
        else if (edited && extraction.status === 'ok') extraction = { ...extraction, code: 'text_edited' };
        const payload: ItemPayload = { ...old, extraction };
        if (change.text !== undefined && !edited) payload.text = change.text;
        if (change.data) payload.data = { ...(old.data ?? {}), ...change.data };
        const version = payload.text !== old.text ? row.version + 1 : row.version;
        // New text is a new version, and the text it replaces goes to the history as every
        // other save's does.
        if (version !== row.version) await this.#hooks?.archive(session, row, old, trx);
        const { terms, count } = this.terms(keys, payload);
        const ok = await this.repo.update(
          userId,
          id,
          row.version,
          {
            version,
            ciphertext: this.seal(keys, userId, id, version, payload),
            occurred_at: row.occurred_at,
            sort_at: row.occurred_at ?? row.created_at,
            type_mac: codec.item.blindType(keys, payload.type),
            term_count: count,
          },
          trx,
        );
        if (!ok) return 'retry' as const;
        if (payload.text !== old.text) await this.repo.replaceTerms(userId, id, terms, trx);
        return this.toItem((await this.repo.get(userId, id, trx))!, payload);
      });
      if (done !== 'retry') return done;
    }
    throw conflict('This item was changed at the same time. Read it again.', 'edit_conflict');
  }

  /**
   * Runs after an item moves to or from the trash, whichever route moved it: what an item put
   * elsewhere (a hand entry's samples on its chart) leaves and comes back with it.
   */
  onTrashMove(listener: TrashListener): void {
    this.#trashListeners.push(listener);
  }

  async trash(session: SessionContext, id: string): Promise<void> {
    const item = this.#trashListeners.length ? await this.get(session, id) : null;
    if (!(await this.repo.setDeleted(session.userId, id, true))) throw notFound();
    for (const l of this.#trashListeners) await l(session, item!, 'trashed');
  }

  async restore(session: SessionContext, id: string): Promise<Item> {
    if (!(await this.repo.setDeleted(session.userId, id, false))) throw notFound();
    const item = await this.get(session, id);
    for (const l of this.#trashListeners) await l(session, item, 'restored');
    return item;
  }

  async tags(session: SessionContext): Promise<Array<{ name: string; count: number }>> {
    const rows = await this.repo.tagCounts(session.userId);
    return rows
      .map((r) => ({
        name: codec.tag.open(session.keys, { userId: session.userId, id: r.id, version: r.version }, asBuffer(r.ciphertext)),
        count: Number(r.count),
      }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  }
}

/** A bare date as the upper bound means "through the end of that day". */
export function endOfDayIfDate(value: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T23:59:59.999Z`);
  return parseDate(value)!;
}

export { DecryptError };

/**
 * Whether `incoming` is an older revision of the FHIR resource `stored` holds: an old download
 * imported again must not replace a correction or an entered-in-error made since. Decided on
 * `meta.lastUpdated` when both have it, else on `meta.versionId` when both are whole numbers (the
 * usual server practice, not a rule of FHIR's); otherwise the incoming one is taken as newer.
 */
export function isOlderRevision(incoming: unknown, stored: unknown): boolean {
  const meta = (d: unknown) => {
    const m = (d as { resource?: { meta?: { lastUpdated?: unknown; versionId?: unknown } } } | undefined)?.resource?.meta;
    return {
      at: typeof m?.lastUpdated === 'string' ? Date.parse(m.lastUpdated) : NaN,
      version: typeof m?.versionId === 'string' && /^\d{1,15}$/.test(m.versionId) ? Number(m.versionId) : NaN,
    };
  };
  const a = meta(incoming);
  const b = meta(stored);
  if (Number.isFinite(a.at) && Number.isFinite(b.at)) return a.at < b.at;
  if (Number.isFinite(a.version) && Number.isFinite(b.version)) return a.version < b.version;
  return false;
}
