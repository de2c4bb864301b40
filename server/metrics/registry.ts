import client, { type Counter, type Gauge, type Histogram } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { PoolMetrics } from '../../sandbox/pool.js';

/**
 * Prometheus metrics for one app instance. A registry per instance (not prom-client's global)
 * so that tests can run several apps in one process. Services add their own through
 * `counter`/`gauge`/`histogram`; names are prefixed `cv_`. Labels never carry user ids or
 * content: route patterns (`/api/items/:id`), not URLs.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly exportBytes: Counter<'recipient'>;
  readonly exports: Counter<'status'>;
  readonly exportSeconds: Histogram;
  readonly importJobs: Counter<'status'>;
  readonly importRecords: Counter<'section'>;
  readonly importSeconds: Histogram;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry, prefix: 'cv_' });
    this.httpDuration = this.histogram({
      name: 'cv_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    });
    this.exports = this.counter({ name: 'cv_exports_total', help: 'Vault exports by outcome.', labelNames: ['status'] });
    this.exportBytes = this.counter({ name: 'cv_export_bytes_total', help: 'Encrypted bytes sent in exports.', labelNames: ['recipient'] });
    this.exportSeconds = this.histogram({ name: 'cv_export_duration_seconds', help: 'Time to stream one export.', buckets: [1, 5, 15, 60, 300, 900, 3600] });
    this.importJobs = this.counter({ name: 'cv_export_import_jobs_total', help: 'Export re-imports by outcome.', labelNames: ['status'] });
    this.importRecords = this.counter({ name: 'cv_export_import_records_total', help: 'Records restored from exports, by section.', labelNames: ['section'] });
    this.importSeconds = this.histogram({
      name: 'cv_export_import_duration_seconds',
      help: 'Time to restore one export.',
      buckets: [1, 5, 15, 60, 300, 900, 3600],
    });
  }

  counter<L extends string>(cfg: client.CounterConfiguration<L>): Counter<L> {
    return new client.Counter({ ...cfg, registers: [this.registry] });
  }

  gauge<L extends string>(cfg: client.GaugeConfiguration<L>): Gauge<L> {
    return new client.Gauge({ ...cfg, registers: [this.registry] });
  }

  histogram<L extends string>(cfg: client.HistogramConfiguration<L>): Histogram<L> {
    return new client.Histogram({ ...cfg, registers: [this.registry] });
  }

  /** Request latency by route pattern; unmatched URLs share one label so they cannot explode the series. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  }

  /** The sandbox pool's snapshot as gauges, read at scrape time (call once the pool exists). */
  observePool(snapshot: () => PoolMetrics | null): void {
    const read = (f: (m: PoolMetrics) => number) =>
      function (this: Gauge) {
        const m = snapshot();
        if (m) this.set(f(m));
      };
    this.gauge({ name: 'cv_sandbox_live', help: 'Inference containers alive.', collect: read((m) => m.live) });
    this.gauge({ name: 'cv_sandbox_warm', help: 'Idle containers not yet bound to a user.', collect: read((m) => m.warm) });
    this.gauge({ name: 'cv_sandbox_leased', help: 'Containers serving a chat.', collect: read((m) => m.leased) });
    this.gauge({ name: 'cv_sandbox_queue_depth', help: 'Chats waiting for a container.', collect: read((m) => m.queueDepth) });
    this.gauge({ name: 'cv_sandbox_starts', help: 'Containers started and ready (since start-up).', collect: read((m) => m.starts) });
    this.gauge({ name: 'cv_sandbox_create_failures', help: 'Containers that failed to start (since start-up).', collect: read((m) => m.createFailures) });
    this.gauge({
      name: 'cv_sandbox_acquire_wait_p95_seconds',
      help: 'p95 wait for a container, recent window.',
      collect: read((m) => m.acquireWaitMs.p95 / 1000),
    });
    this.gauge({ name: 'cv_sandbox_lifetime_p50_seconds', help: 'Median container lifetime, recent window.', collect: read((m) => m.lifetimesMs.p50 / 1000) });
    const recycles = this.gauge({
      name: 'cv_sandbox_recycles',
      help: 'Containers recycled since start-up, by reason.',
      labelNames: ['reason'],
      collect() {
        const m = snapshot();
        if (m) for (const [reason, n] of Object.entries(m.recycles)) recycles.set({ reason }, n);
      },
    });
  }
}
