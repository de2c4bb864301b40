import type { Metrics } from './registry.js';

export type JobOutcome = 'done' | 'failed' | 'interrupted';

/** What a job runner (imports, export re-imports, vault upgrades) or the sync scheduler reports. */
export interface JobObserver {
  /** A job left the queue after waiting `waitSeconds`. */
  started(kind: string, waitSeconds: number): void;
  /** A job ended; `records` is what it wrote (new records, samples, files...). */
  finished(kind: string, outcome: JobOutcome, seconds: number, records: number): void;
}

/**
 * Background work by kind (`apple_health`, `vault_export`, `vault_upgrade`, `sync_epic`...):
 * runs by outcome with duration and records per second, time queued, and the queue itself
 * (read at scrape time). Kinds are fixed job names, never user data.
 */
export class JobMetrics implements JobObserver {
  readonly #runs;
  readonly #seconds;
  readonly #records;
  readonly #rate;
  readonly #wait;

  constructor(private readonly metrics: Metrics) {
    this.#runs = metrics.counter({
      name: 'cv_jobs_total',
      help: 'Import, upgrade and sync jobs by kind and outcome (done, failed, interrupted).',
      labelNames: ['kind', 'outcome'],
    });
    this.#seconds = metrics.histogram({
      name: 'cv_job_duration_seconds',
      help: 'Job run time by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    });
    this.#records = metrics.counter({ name: 'cv_job_records_total', help: 'Records written by jobs, by kind.', labelNames: ['kind'] });
    this.#rate = metrics.histogram({
      name: 'cv_job_records_per_second',
      help: 'Records written per second of a finished job, by kind.',
      labelNames: ['kind'],
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000],
    });
    this.#wait = metrics.histogram({
      name: 'cv_job_queue_wait_seconds',
      help: 'Time a job waited in the queue before it ran, by kind.',
      labelNames: ['kind'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    });
  }

  started(kind: string, waitSeconds: number): void {
    this.#wait.observe({ kind }, waitSeconds);
  }

  finished(kind: string, outcome: JobOutcome, seconds: number, records: number): void {
    this.#runs.inc({ kind, outcome });
    this.#seconds.observe({ kind, outcome }, seconds);
    if (records > 0) this.#records.inc({ kind }, records);
    if (outcome === 'done' && records > 0 && seconds > 0) this.#rate.observe({ kind }, records / seconds);
  }

  /** Jobs queued and running now, and jobs waiting for their owner to sign in (after a restart). */
  observeQueue(read: () => Promise<{ queued: number; running: number; waitingForOwner: number }>): void {
    const gauge = this.metrics.gauge({
      name: 'cv_job_queue_depth',
      help: 'Jobs by state: queued (ready), running, waiting_for_owner (need a sign-in to resume).',
      labelNames: ['state'],
      async collect() {
        const q = await read();
        gauge.set({ state: 'queued' }, q.queued);
        gauge.set({ state: 'running' }, q.running);
        gauge.set({ state: 'waiting_for_owner' }, q.waitingForOwner);
      },
    });
  }
}
