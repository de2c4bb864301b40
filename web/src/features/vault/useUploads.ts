import { useCallback, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Item } from '../../api/types';
import { uploadFile } from '../../api/upload';

export interface UploadEntry {
  key: string;
  name: string;
  size: number;
  progress: number;
  status: 'queued' | 'uploading' | 'processing' | 'done' | 'duplicate' | 'failed';
  error?: string;
  item?: Item;
}

const CONCURRENCY = 3;

export function useUploads(onUploaded: (item: Item) => void) {
  const [entries, setEntries] = useState<UploadEntry[]>([]);
  const queue = useRef<{ key: string; file: File }[]>([]);
  const active = useRef(0);
  const aborts = useRef(new Map<string, () => void>());
  const onUploadedRef = useRef(onUploaded);
  onUploadedRef.current = onUploaded;

  const patch = (key: string, p: Partial<UploadEntry>) => setEntries((prev) => prev.map((e) => (e.key === key ? { ...e, ...p } : e)));

  const pump = useCallback(() => {
    while (active.current < CONCURRENCY && queue.current.length) {
      const { key, file } = queue.current.shift()!;
      active.current++;
      patch(key, { status: 'uploading' });
      const h = uploadFile<Item>('/api/files', file, (f) => patch(key, { progress: f, status: f >= 1 ? 'processing' : 'uploading' }));
      aborts.current.set(key, h.abort);
      h.promise
        .then(({ status, body }) => {
          patch(key, { progress: 1, status: status === 200 ? 'duplicate' : 'done', item: body });
          if (body) onUploadedRef.current(body);
        })
        .catch((e: unknown) => patch(key, { status: 'failed', error: e instanceof ApiError ? e.message : 'Upload failed.' }))
        .finally(() => {
          aborts.current.delete(key);
          active.current--;
          pump();
        });
    }
  }, []);

  const add = useCallback(
    (files: FileList | File[]) => {
      const list = Array.from(files);
      if (!list.length) return;
      const stamp = Date.now();
      const next = list.map((file, i) => ({ key: `${stamp}-${i}-${file.name}`, file }));
      setEntries((prev) => [...next.map(({ key, file }) => ({ key, name: file.name, size: file.size, progress: 0, status: 'queued' as const })), ...prev]);
      queue.current.push(...next);
      pump();
    },
    [pump],
  );

  const cancel = useCallback((key: string) => {
    queue.current = queue.current.filter((q) => q.key !== key);
    aborts.current.get(key)?.();
    setEntries((prev) => prev.filter((e) => e.key !== key || e.status === 'uploading'));
  }, []);

  const clearFinished = useCallback(
    () => setEntries((prev) => prev.filter((e) => e.status === 'queued' || e.status === 'uploading' || e.status === 'processing')),
    [],
  );

  return { entries, add, cancel, clearFinished };
}
