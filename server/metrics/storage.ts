import { statfs } from 'node:fs/promises';
import type { Metrics } from './registry.js';

/** The database's size is read at most this often: a scrape should not cost a query each time. */
const DB_SIZE_EVERY_MS = 60_000;

/**
 * Free and total space on the data directory's disk (files, imports, embedded database), and
 * the database's own size, read at scrape time: the "disk or database near full" alerts.
 */
export function observeStorage(metrics: Metrics, opts: { dataDir: string; databaseBytes: () => Promise<number>; embedded: boolean }): void {
  const disk = async () => statfs(opts.dataDir).catch(() => undefined);
  metrics.gauge({
    name: 'cv_data_disk_free_bytes',
    help: 'Bytes free (for the server user) on the disk holding DATA_DIR.',
    async collect() {
      const s = await disk();
      if (s) this.set(s.bavail * s.bsize);
    },
  });
  metrics.gauge({
    name: 'cv_data_disk_size_bytes',
    help: 'Size of the disk holding DATA_DIR.',
    async collect() {
      const s = await disk();
      if (s) this.set(s.blocks * s.bsize);
    },
  });
  let last: { at: number; bytes: number } | undefined;
  metrics.gauge({
    name: 'cv_database_size_bytes',
    help: 'Bytes the database takes on disk (pg_database_size), refreshed at most once a minute.',
    labelNames: ['engine'],
    async collect() {
      if (!last || Date.now() - last.at > DB_SIZE_EVERY_MS) {
        const bytes = await opts.databaseBytes().catch(() => undefined);
        if (bytes !== undefined) last = { at: Date.now(), bytes };
      }
      if (last) this.set({ engine: opts.embedded ? 'pglite' : 'postgres' }, last.bytes);
    },
  });
}
