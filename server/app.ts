import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ModelStore } from '../sandbox/model-store.js';
import type { SandboxRuntime } from '../sandbox/runtime.js';
import { setKdfConcurrency } from '../crypto/index.js';
import type { Config } from './config.js';
import { buildContainer } from './container.js';
import { migrateToLatest, openDatabase, type Database } from './db/index.js';
import { auth } from './features/auth.js';
import { chat } from './features/chat.js';
import { vaultExport } from './features/export.js';
import { extraction } from './features/extraction.js';
import type { Feature, Stop } from './features/feature.js';
import { files } from './features/files.js';
import { healthCheck } from './features/health-check.js';
import { healthImports } from './features/health-imports.js';
import { healthViews } from './features/health-views.js';
import { integrations } from './features/integrations.js';
import { search } from './features/search.js';
import { vault } from './features/vault.js';
import { clientErrorHandler, installErrorHandler, routerErrors } from './http/error-handler.js';
import { validatorCompiler } from './http/validator.js';
import { responseSerializerCompiler } from './http/response-serializer.js';
import { loggerOptions } from './logger.js';
import { QueryObserver } from './metrics/db.js';
import { traceRequests } from './metrics/http-tracing.js';
import { Metrics } from './metrics/registry.js';
import { startTracing } from './metrics/tracing.js';
import { cookies } from './plugins/cookies.js';
import { metrics as metricsPlugin } from './plugins/metrics.js';
import { openApi } from './plugins/openapi.js';
import { rateLimits } from './plugins/rate-limits.js';
import { securityHeaders } from './plugins/security-headers.js';
import { session } from './plugins/session.js';
import { webApp } from './plugins/web-app.js';

/** What every route relies on, in the order their hooks run; OpenAPI comes before the routes it describes. */
const PLUGINS: Feature[] = [securityHeaders, cookies, rateLimits, session, metricsPlugin, openApi];

/** One line per feature (server/features/); the order is the order of their hooks and of the OpenAPI paths. */
const FEATURES: Feature[] = [healthCheck, auth, vault, files, search, chat, healthImports, extraction, healthViews, vaultExport, integrations];

export interface AppOptions {
  config: Config;
  /** Tests pass an already-migrated database; otherwise one is opened from the config. */
  db?: Database;
  /** Where logs go (tests capture them to prove nothing secret is written). */
  logStream?: NodeJS.WritableStream;
  /** Tests may hand in a runtime (e.g. local processes speaking Ollama's API). */
  sandboxRuntime?: SandboxRuntime;
  /** Tests may hand in where models are managed (the pull container with the stand-in's registry). */
  modelStore?: ModelStore | null;
  /**
   * Called (after a fatal log line) when embedded PGlite's WebAssembly aborted: the instance is
   * dead and every request would fail. The server's entry exits so a supervisor restarts it.
   */
  onDatabaseDead?: (err: Error) => void;
}

/**
 * Fastify (5.x) ignores a bare hop count on purpose, so a count becomes proxy-addr's function
 * form: trust the socket peer and the next `n - 1` addresses, the client is the one after.
 */
function trustProxyOption(v: Config['TRUST_PROXY']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof v === 'number') return v > 0 ? (_addr, hop) => hop < v : false;
  return v;
}

/** The composition root: config, database, the container of services, plugins and features. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  // Errors of idle database connections are logged, never fatal; the logger exists before the app.
  let logIdleError: (err: Error) => void = () => {};
  let databaseDead: (err: Error) => void = (err) => opts.onDatabaseDead?.(err);
  // Metrics first: the database reports every query's family and time to them.
  const metrics = new Metrics();
  const queries = new QueryObserver(metrics);
  // Spans lost are counted, and said in the log at most once a minute: a collector that is down
  // must not look like a server with no traffic.
  let warnDropped: (spans: number, reason: string) => void = () => {};
  const droppedSpans = metrics.counter({
    name: 'cv_trace_spans_dropped_total',
    help: 'Spans not exported: the collector failed or the queue was full.',
    labelNames: ['reason'],
  });
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? await startTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT, {
        onDropped: (spans, reason) => {
          droppedSpans.inc({ reason }, spans);
          warnDropped(spans, reason);
        },
      })
    : null;
  const opened = opts.db
    ? undefined
    : await openDatabase({
        url: config.DATABASE_URL,
        dataDir: config.dataDir,
        poolMax: config.DATABASE_POOL_MAX,
        onIdleError: (err) => logIdleError(err),
        onFatal: (err) => databaseDead(err),
        log: queries.log,
      });
  const db = opts.db ?? opened!.db;
  if (opened) queries.observePool(opened.poolStats, metrics);
  if (!opts.db) await migrateToLatest(db);
  setKdfConcurrency(config.KDF_CONCURRENCY);

  const app = Fastify({
    logger: opts.logStream ? { ...loggerOptions(config.LOG_LEVEL), stream: opts.logStream } : loggerOptions(config.LOG_LEVEL),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: config.maxJsonBytes,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    // A model's name may be 200 characters, and more once percent-encoded (`/` is `%2F`).
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: routerErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  // The request span is the first hook, so everything a request does is inside it.
  if (tracing) traceRequests(app);
  databaseDead = (err) => {
    app.log.fatal({ err: { name: err.name, message: err.message } }, 'embedded database aborted; restart the server');
    opts.onDatabaseDead?.(err);
  };
  let lastDropWarning = 0;
  warnDropped = (spans, reason) => {
    if (Date.now() - lastDropWarning < 60_000) return;
    lastDropWarning = Date.now();
    app.log.warn({ spans, reason }, 'trace spans dropped: the OTLP collector did not take them (see cv_trace_spans_dropped_total)');
  };
  logIdleError = (err) =>
    app.log.warn({ err: { name: err.name, code: (err as { code?: string }).code } }, 'database connection lost; reconnecting on next query');
  // No route reads text: a JSON route sent `text/plain` is a 415, not a 400 about a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  installErrorHandler(app);

  const c = await buildContainer({ config, db, log: app.log, metrics, sandboxRuntime: opts.sandboxRuntime, modelStore: opts.modelStore });
  const stops: Stop[] = [];
  for (const register of [...PLUGINS, ...FEATURES, webApp]) {
    const stop = await register(app, c);
    if (stop) stops.push(stop);
  }

  // Shutdown, all of it: what the features started stops (last registered first) while the
  // database is still there; then the container closes what it opened; then the database and
  // the trace exporter (which flushes the last spans).
  app.addHook('preClose', async () => {
    for (const stop of [...stops].reverse()) await stop();
  });
  app.addHook('onClose', async () => {
    await c.close();
    if (!opts.db) await db.destroy();
    await tracing?.shutdown();
  });
  return app;
}
