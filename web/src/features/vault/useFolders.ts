import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Folder, Item } from '../../api/types';

/** The folder tree with paths ("Health / Labs"), and the calls that change it. */
export function useFolders() {
  const [folders, setFolders] = useState<Folder[]>([]);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(() => {
    api
      .get<{ folders: Folder[] }>('/api/folders')
      .then((r) => setFolders(r.folders))
      .catch(setError);
  }, []);
  useEffect(reload, [reload]);

  const byId = useMemo(() => new Map(folders.map((f) => [f.id, f])), [folders]);
  /** From the top folder down to `id`. */
  const trail = useCallback(
    (id: string | null | undefined): Folder[] => {
      const out: Folder[] = [];
      for (let f = id ? byId.get(id) : undefined; f && out.length < 64; f = f.parentId ? byId.get(f.parentId) : undefined) out.unshift(f);
      return out;
    },
    [byId],
  );
  const pathOf = useCallback(
    (id: string) =>
      trail(id)
        .map((f) => f.name)
        .join(' / '),
    [trail],
  );

  const run = useCallback(
    async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      setError(null);
      try {
        const r = await fn();
        reload();
        return r;
      } catch (e) {
        setError(e);
        return undefined;
      }
    },
    [reload],
  );

  return {
    folders,
    error,
    reload,
    trail,
    pathOf,
    create: (name: string, parentId: string | null) => run(() => api.post<Folder>('/api/folders', { name, parentId })),
    rename: (id: string, name: string) => run(() => api.patch<Folder>(`/api/folders/${id}`, { name })),
    remove: (id: string) => run(() => api.del(`/api/folders/${id}`)),
    moveItem: (itemId: string, folderId: string | null) => run(() => api.patch<Item>(`/api/items/${itemId}`, { folderId })),
  };
}

export type FoldersApi = ReturnType<typeof useFolders>;

/** The drag payload of an item row (not a file: the page's upload drop ignores it). */
export const ITEM_DRAG_TYPE = 'application/x-context-vault-item';
