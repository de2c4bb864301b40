import { randomUUID } from 'node:crypto';
import type { Folder } from '../../contract/index.js';
import type { Transaction } from 'kysely';
import { folderName } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import type { DB } from '../db/types.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { FoldersRepository } from '../repositories/folders.repository.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';

/** Deep enough for any filing scheme, shallow enough that walking a path stays cheap. */
export const MAX_FOLDER_DEPTH = 32;

/**
 * A folder name as people tell names apart: trimmed, inner runs of whitespace as one space (a
 * page shows them so), NFC (a composed and a decomposed é), and case folded; NFC again after
 * folding, which can decompose (İ).
 */
export function folderNameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').normalize('NFC').toLocaleLowerCase('und').normalize('NFC');
}

/**
 * Nested folders. Names are sealed under a per-folder row key (AAD table `folders`, folder id,
 * version); the tree's shape (parent links) and which folder an item is in are in clear, so the
 * database can list a subtree.
 */
export class FoldersService {
  constructor(
    private readonly repo: FoldersRepository,
    private readonly items: ItemsService,
  ) {}

  #seal(session: SessionContext, id: string, version: number, name: string): Buffer {
    return folderName.seal(session.keys, { userId: session.userId, id, version }, name);
  }

  #name(session: SessionContext, row: { id: string; version: number; ciphertext: Uint8Array }): string {
    return folderName.open(session.keys, { userId: session.userId, id: row.id, version: row.version }, asBuffer(row.ciphertext));
  }

  /**
   * The parent exists, and what goes under it stays within MAX_FOLDER_DEPTH: a new folder, or a
   * moved one (`moving`) with every level below it.
   */
  async #checkParent(session: SessionContext, parentId: string, trx?: Transaction<DB>, moving?: string): Promise<void> {
    if (!(await this.repo.get(session.userId, parentId, trx))) throw notFound('Folder');
    const below = moving ? await this.repo.height(session.userId, moving, trx) : 0;
    if ((await this.repo.depth(session.userId, parentId, trx)) + 1 + below >= MAX_FOLDER_DEPTH) {
      throw badRequest(`Folders nest at most ${MAX_FOLDER_DEPTH} deep.`, 'too_deep');
    }
  }

  /**
   * 409 `folder_exists` when a folder under `parentId` other than `self` has this name as
   * {@link folderNameKey} compares them. Names are sealed, so the siblings are opened here; the
   * caller holds the tree lock, so two tabs creating one name at once take turns and the second
   * sees the first. The message holds the user's own name, for them alone: never log it.
   */
  async #checkName(session: SessionContext, parentId: string | null, name: string, trx: Transaction<DB>, self?: string): Promise<void> {
    const key = folderNameKey(name);
    for (const row of await this.repo.children(session.userId, parentId, trx)) {
      if (row.id !== self && folderNameKey(this.#name(session, row)) === key) {
        throw conflict(`A folder named "${name}" already exists here.`, 'folder_exists');
      }
    }
  }

  /**
   * A new folder. `uniqueName` (the API's create) refuses a name a sibling has; re-import leaves it
   * off: it merges a folder into a same-named one itself, and keeps an export's two same-named
   * siblings (made before names were checked) two.
   */
  async create(session: SessionContext, input: { name: string; parentId?: string | null }, opts: { uniqueName?: boolean } = {}): Promise<Folder> {
    const parentId = input.parentId ?? null;
    const id = randomUUID();
    await this.repo.tree(session.userId, async (trx) => {
      if (parentId) await this.#checkParent(session, parentId, trx);
      if (opts.uniqueName) await this.#checkName(session, parentId, input.name, trx);
      await this.repo.insert({ id, user_id: session.userId, parent_id: parentId, ciphertext: this.#seal(session, id, 1, input.name) }, trx);
    });
    return { id, name: input.name, parentId };
  }

  async list(session: SessionContext): Promise<Array<Folder & { count: number }>> {
    const rows = await this.repo.listWithCounts(session.userId);
    return rows.map((r) => ({ id: r.id, name: this.#name(session, r), parentId: r.parent_id, count: Number(r.count ?? 0) }));
  }

  async update(session: SessionContext, id: string, patch: { name?: string; parentId?: string | null }): Promise<Folder> {
    return this.repo.tree(session.userId, async (trx) => {
      const row = await this.repo.get(session.userId, id, trx);
      if (!row) throw notFound('Folder');
      const set: { parent_id?: string | null; ciphertext?: Buffer; version?: number } = {};
      if (patch.parentId !== undefined && patch.parentId !== row.parent_id) {
        if (patch.parentId) {
          // A folder cannot move into itself or anything below it.
          if ((await this.repo.subtree(session.userId, id, trx)).includes(patch.parentId)) {
            throw badRequest('A folder cannot be moved into itself or one of its subfolders.', 'folder_cycle');
          }
          // The whole subtree moves: its deepest folder must stay within the limit too.
          await this.#checkParent(session, patch.parentId, trx, id);
        }
        set.parent_id = patch.parentId;
      }
      const current = this.#name(session, row);
      const name = patch.name ?? current;
      // Keeping its name, or changing only its case, where it is: a folder never clashes with
      // itself, nor with a same-named sibling from before names were checked.
      if (set.parent_id !== undefined || folderNameKey(name) !== folderNameKey(current)) {
        await this.#checkName(session, set.parent_id === undefined ? row.parent_id : set.parent_id, name, trx, id);
      }
      if (patch.name !== undefined) {
        set.version = row.version + 1;
        set.ciphertext = this.#seal(session, id, set.version, patch.name);
      }
      if (Object.keys(set).length) await this.repo.update(session.userId, id, set, trx);
      return { id, name, parentId: set.parent_id === undefined ? row.parent_id : set.parent_id };
    });
  }

  /** Deletes the folder and its subfolders; every item in them goes to the trash. */
  async delete(session: SessionContext, id: string): Promise<void> {
    await this.repo.tree(session.userId, async (trx) => {
      const ids = await this.repo.subtree(session.userId, id, trx);
      if (ids.length === 0) throw notFound('Folder');
      await this.repo.trashItemsIn(session.userId, ids, trx);
      await this.repo.delete(session.userId, ids, trx);
    });
  }

  /**
   * ItemsService hook: files one item, checking the folder is this user's. Under the tree lock, so
   * a folder being deleted meanwhile either takes the item to the trash with it or is gone (404);
   * the caller takes it before it locks the item's row, in the order a delete takes the two.
   */
  async move(session: SessionContext, itemId: string, folderId: string | null, trx: Transaction<DB>): Promise<void> {
    await this.repo.lockTree(session.userId, trx);
    if (folderId && !(await this.repo.get(session.userId, folderId, trx))) throw notFound('Folder');
    await this.repo.moveItems(session.userId, [itemId], folderId, trx);
  }

  /** Files many items at once (export re-import); unknown folders leave items unfiled. */
  async fileItems(session: SessionContext, itemIds: string[], folderId: string | null): Promise<void> {
    if (folderId && !(await this.repo.get(session.userId, folderId))) folderId = null;
    await this.repo.moveItems(session.userId, itemIds, folderId);
  }

  /** Items in a folder (and below it with `recursive`), or in no folder (`folderId: "none"`). */
  async listItems(
    session: SessionContext,
    q: Parameters<ItemsService['list']>[1] & { folderId?: string; recursive?: boolean },
  ): Promise<{ items: Item[]; nextCursor: string | null }> {
    const { folderId, recursive, ...rest } = q;
    if (folderId === undefined) return this.items.list(session, rest);
    return this.items.list(session, { ...rest, folderIds: await this.scope(session, folderId, recursive) });
  }

  /** A `folderId` filter as the folders it means: null for "in no folder", the subtree when recursive; 404 for an unknown folder. */
  async scope(session: SessionContext, folderId: string, recursive?: boolean): Promise<string[] | null> {
    if (folderId === 'none') return null;
    const ids = recursive ? await this.repo.subtree(session.userId, folderId) : (await this.repo.get(session.userId, folderId)) ? [folderId] : [];
    if (ids.length === 0) throw notFound('Folder');
    return ids;
  }
}
