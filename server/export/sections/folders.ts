/** The folder tree as folders.jsonl, parents before children. */
import type { Readable } from 'node:stream';
import type { FoldersService } from '../../services/folders.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ExportFolder } from '../../../contract/export.js';
import { readLines } from '../lines.js';
import { count, warn, WARNINGS, type ExportWriter, type ImportState, type PortabilitySection } from './section.js';

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

  async import(name: string, body: Readable, state: ImportState): Promise<void> {
    const here = await this.folders.list(state.session);
    const ids = new Set(here.map((f) => f.id));
    // Folders merge by path: a folder of the same name under the same parent is the same folder,
    // so importing an export twice (or into the account it came from) adds none. Each folder here
    // is matched once: two sibling folders of one name (which may exist) stay two.
    const unmatched = new Map<string, string[]>();
    for (const f of here) {
      const path = pathKey(f.parentId, f.name);
      unmatched.set(path, [...(unmatched.get(path) ?? []), f.id]);
    }
    /** An unmatched folder at `path` (`id` itself, when given), now matched. */
    const match = (path: string, id?: string): string | undefined => {
      const free = unmatched.get(path) ?? [];
      const at = id === undefined ? 0 : free.indexOf(id);
      return at < 0 ? undefined : free.splice(at, 1)[0];
    };
    for await (const f of readLines(body, name, ExportFolder, 'folder')) {
      const parentId = f.parentId ? (state.folderIds.get(f.parentId) ?? null) : null;
      if (f.parentId && !parentId) warn(state, WARNINGS.parentFolder);
      const path = pathKey(parentId, f.name);
      const known = ids.has(f.id) ? (match(path, f.id) ?? f.id) : match(path);
      if (known) state.folderIds.set(f.id, known);
      else {
        // Only a folder this run made counts as imported; one matched by its path was here before.
        state.folderIds.set(f.id, (await this.folders.create(state.session, { name: f.name, parentId })).id);
        count(state, this.name);
      }
      state.progress(1);
    }
  }
}

const pathKey = (parentId: string | null, name: string): string => `${parentId ?? ''}|${name}`;
