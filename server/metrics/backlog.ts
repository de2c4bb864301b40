import type { Metrics } from './registry.js';

export interface BacklogSources {
  /** Live items waiting for vectors (the embedding service). */
  embedding(): Promise<number>;
  /** Files waiting to be read or OCR'd (the extraction service). */
  ocr(): Promise<number>;
  /** When `npm run backup` last completed, as it recorded in the database; null if never. */
  lastBackup(): Promise<Date | null>;
}

/**
 * Background work still to do and the last good backup, read at scrape time from the services
 * that own them (each keeps its own count cached, so a scrape costs no table scan). A source that
 * fails leaves its gauge at its last value: a scrape never fails for a backlog count.
 */
export function observeBacklogs(metrics: Metrics, sources: BacklogSources): void {
  const backlog = metrics.gauge({
    name: 'cv_backlog_items',
    help: 'Items waiting for background processing, by queue (embedding: items without vectors; ocr: files waiting to be read).',
    labelNames: ['queue'],
    async collect() {
      const [embedding, ocr] = await Promise.all([sources.embedding().catch(() => null), sources.ocr().catch(() => null)]);
      if (embedding !== null) backlog.set({ queue: 'embedding' }, embedding);
      if (ocr !== null) backlog.set({ queue: 'ocr' }, ocr);
    },
  });
  for (const queue of ['embedding', 'ocr']) backlog.set({ queue }, 0);
  const backup = metrics.gauge({
    name: 'cv_backup_last_success_timestamp_seconds',
    help: 'Unix time of the last backup `npm run backup` completed (0 = none recorded).',
    async collect() {
      const at = await sources.lastBackup().catch(() => undefined);
      if (at !== undefined) backup.set(at ? Math.floor(at.getTime() / 1000) : 0);
    },
  });
  backup.set(0);
}
