import { unauthorized } from '../errors.js';
import type { Feature } from '../features/feature.js';
import { bearerMatches } from '../http/session.js';
import { lastBackupSuccess } from '../backup/status.js';
import { observeBacklogs } from '../metrics/backlog.js';
import { observeEventLoop } from '../metrics/event-loop.js';
import { observeStorage } from '../metrics/storage.js';

/**
 * `/metrics` for Prometheus: HTTP, pool, event loop, storage and backlog gauges. Registered
 * before the routes it measures.
 */
export const metrics: Feature = async (app, c) => {
  const { config, metrics } = c;
  metrics.instrument(app);
  const pool = c.pool;
  if (pool) metrics.observePool(() => pool.metrics());
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    // Counts only, never content; still, a public deployment should not show its traffic.
    if (config.METRICS_TOKEN && !bearerMatches(req.headers.authorization, config.METRICS_TOKEN)) throw unauthorized('A metrics token is required.');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const eventLoop = observeEventLoop(metrics);
  observeStorage(metrics, { dataDir: config.dataDir, databaseBytes: c.databaseBytes, embedded: !config.DATABASE_URL });
  observeBacklogs(metrics, {
    embedding: () => c.embeddings.backlog(),
    ocr: () => c.extraction.backlog(),
    // One primary-key read per scrape: a backup recorded a moment ago shows at once.
    lastBackup: () => lastBackupSuccess(c.serverSettings),
  });
  return () => eventLoop.stop();
};
