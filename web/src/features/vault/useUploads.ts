import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Item } from '../../api/types';
import { tooLargeMessage, uploadFile, uploadLimit } from '../../api/upload';

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
  /** Cancelled while the size was being checked, before any byte was sent. */
  const cancelled = useRef(new Set<string>());
  const onUploadedRef = useRef(onUploaded);
  onUploadedRef.current = onUploaded;

  const patch = (key: string, p: Partial<UploadEntry>) => setEntries((prev) => prev.map((e) => (e.key === key ? { ...e, ...p } : e)));

  useEffect(() => {
    void uploadLimit();
  }, []);

  const run = useCallback(async (key: string, file: File) => {
    const max = await uploadLimit();
    if (cancelled.current.delete(key)) return;
    if (max !== null && file.size > max) {
      patch(key, { status: 'failed', error: tooLargeMessage(max) });
      return;
    }
    patch(key, { status: 'uploading' });
    const h = uploadFile<Item>('/api/files', file, (f) => patch(key, { progress: f, status: f >= 1 ? 'processing' : 'uploading' }));
    aborts.current.set(key, h.abort);
    try {
      const { status, body } = await h.promise;
      patch(key, { progress: 1, status: status === 200 ? 'duplicate' : 'done', item: body });
      if (body) onUploadedRef.current(body);
    } catch (e: unknown) {
      patch(key, { status: 'failed', error: e instanceof ApiError ? e.message : 'Upload failed.' });
    } finally {
      aborts.current.delete(key);
    }
  }, []);

  const pump = useCallback(() => {
    while (active.current < CONCURRENCY && queue.current.length) {
      const { key, file } = queue.current.shift()!;
      active.current++;
      void run(key, file).finally(() => {
        active.current--;
        pump();
      });
    }
  }, [run]);

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
    const waiting = queue.current.some((q) => q.key === key);
    queue.current = queue.current.filter((q) => q.key !== key);
    const abort = aborts.current.get(key);
    if (abort) abort();
    else if (!waiting) cancelled.current.add(key);
    setEntries((prev) => prev.filter((e) => e.key !== key || e.status === 'uploading'));
  }, []);

  const clearFinished = useCallback(
    () => setEntries((prev) => prev.filter((e) => e.status === 'queued' || e.status === 'uploading' || e.status === 'processing')),
    [],
  );

  return { entries, add, cancel, clearFinished };
}
