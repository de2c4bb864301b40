import { useCallback, useEffect, useRef, useState } from 'react';
import { api, qs } from '../../api/client';
import type { Item, ItemPage } from '../../api/types';

export interface ItemFilters {
  kind?: string;
  source?: string;
  tag?: string;
  type?: string;
  folderId?: string;
}

const PAGE = 100;

/** Cursor pagination over GET /api/items; `loadMore` is safe to call repeatedly while scrolling. */
export function useItems(filters: ItemFilters, pageSize = PAGE) {
  const [items, setItems] = useState<Item[]>([]);
  // A cursor belongs to the listing that produced it: a stale render's loadMore (old filters)
  // must not fetch the old list's next page into the new one.
  const [cursor, setCursor] = useState<{ value: string; gen: number } | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const inFlight = useRef(false);
  const key = JSON.stringify(filters);
  const genRef = useRef(0);

  const fetchPage = useCallback(
    async (from: string | null, gen: number) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setLoading(true);
      setError(null);
      try {
        const f = JSON.parse(key) as ItemFilters;
        // Rows show a line of each item's text; the item page fetches the whole item by id.
        const page = await api.get<ItemPage>(`/api/items${qs({ ...f, limit: pageSize, cursor: from, text: 'preview' })}`);
        if (gen !== genRef.current) return;
        setItems((prev) => {
          if (!from) return page.items;
          const seen = new Set(prev.map((i) => i.id));
          return prev.concat(page.items.filter((i) => !seen.has(i.id)));
        });
        setCursor(page.nextCursor ? { value: page.nextCursor, gen } : null);
        setDone(!page.nextCursor);
      } catch (e) {
        if (gen === genRef.current) setError(e);
      } finally {
        // A superseded request must not clear the flag of the one that replaced it.
        if (gen === genRef.current) {
          inFlight.current = false;
          setLoading(false);
        }
      }
    },
    [key, pageSize],
  );

  useEffect(() => {
    const gen = ++genRef.current;
    inFlight.current = false;
    setItems([]);
    setCursor(null);
    setDone(false);
    void fetchPage(null, gen);
  }, [fetchPage, generation]);

  const loadMore = useCallback(() => {
    if (!done && cursor && cursor.gen === genRef.current && !inFlight.current) void fetchPage(cursor.value, cursor.gen);
  }, [done, cursor, fetchPage]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  const upsert = useCallback((item: Item) => {
    setItems((prev) => {
      const i = prev.findIndex((p) => p.id === item.id);
      if (i === -1) return [item, ...prev];
      const next = prev.slice();
      next[i] = item;
      return next;
    });
  }, []);

  return { items, loading, error, done, loadMore, reload, upsert };
}
