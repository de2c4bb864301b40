import type { Metrics } from './registry.js';

/**
 * Gauges for work that lands in other branches: the embedding and OCR backlogs (set by their
 * workers, e.g. after each batch: `backlog.set('embedding', n)`), the last good backup (set by
 * the backup helper: `backups.succeeded()`), and other work queues. Defined now so the dashboard
 * and alerts can query them; they read 0 until something sets them.
 */
export class BacklogMetrics {
  readonly #backlog;
  readonly #backupLast;
  readonly #backupRuns;

  constructor(metrics: Metrics) {
    this.#backlog = metrics.gauge({
      name: 'cv_backlog_items',
      help: 'Items waiting for background processing, by queue (embedding, ocr).',
      labelNames: ['queue'],
    });
    for (const queue of ['embedding', 'ocr']) this.#backlog.set({ queue }, 0);
    this.#backupLast = metrics.gauge({
      name: 'cv_backup_last_success_timestamp_seconds',
      help: 'Unix time of the last backup that completed (0 = none since start-up).',
    });
    this.#backupRuns = metrics.counter({ name: 'cv_backups_total', help: 'Backups by outcome.', labelNames: ['outcome'] });
    this.#backupLast.set(0);
  }

  /** Items waiting in `queue` ('embedding', 'ocr'). */
  set(queue: 'embedding' | 'ocr', items: number): void {
    this.#backlog.set({ queue }, items);
  }

  backupSucceeded(at = new Date()): void {
    this.#backupRuns.inc({ outcome: 'done' });
    this.#backupLast.set(Math.floor(at.getTime() / 1000));
  }

  backupFailed(): void {
    this.#backupRuns.inc({ outcome: 'failed' });
  }
}
