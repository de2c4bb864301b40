export interface CachedReader<T> {
  (): Promise<T>;
  /** Forgets the kept value: this process just changed what it counts, so the next call reads. */
  clear(): void;
}

/**
 * A reader for values read at scrape time that cost a query: `read` runs at most once per
 * `ttlMs`, and calls in between (or during a read) get its last result. Prometheus scrapes every
 * 15 s or so, from one or more servers; a gauge a few seconds old is as useful as a fresh one, and
 * a count over a large table then runs once per `ttlMs`, not once per scrape. Changes made by this
 * process call `clear()`; other instances' changes show within `ttlMs`. A failed read is not kept.
 */
export function cachedReader<T>(read: () => Promise<T>, ttlMs: number): CachedReader<T> {
  let last: { value: Promise<T>; at: number } | undefined;
  const get = () => {
    const now = performance.now();
    if (last && now - last.at < ttlMs) return last.value;
    const entry = {
      value: read().catch((err: unknown) => {
        if (last === entry) last = undefined;
        throw err;
      }),
      at: now,
    };
    last = entry;
    return entry.value;
  };
  return Object.assign(get, { clear: () => void (last = undefined) });
}
