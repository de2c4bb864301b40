import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { setKdfConcurrency } from '../crypto/index.js';
import type { Config } from './config.js';
import { migrateToLatest, openDatabase, type Database } from './db/index.js';
import { PlannerStats } from './db/planner-stats.js';
import { AppError, notFound } from './errors.js';
import { FileStore } from './files/store.js';
import { installErrorHandler } from './http/error-handler.js';
import { bearerMatches, checkOrigin, isApiRequest, sessionCookieName } from './http/session.js';
import { bearerToken, enforceTokenScope } from './http/token-scope.js';
import { ApiTokensRepository } from './repositories/api-tokens.repository.js';
import { tokensRoutes } from './routes/tokens/index.js';
import { ApiTokensService } from './services/api-tokens.service.js';
import { loggerOptions } from './logger.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { ActivityService } from './services/activity.service.js';
import { PreferencesSection } from './export/sections/preferences.js';
import { activityRoutes } from './routes/activity/index.js';
import { FilesRepository } from './repositories/files.repository.js';
import { ItemsRepository } from './repositories/items.repository.js';
import { SessionsRepository } from './repositories/sessions.repository.js';
import { UsersRepository } from './repositories/users.repository.js';
import { authRoutes } from './routes/auth/index.js';
import { filesRoutes } from './routes/files/index.js';
import { healthRoutes } from './routes/health/index.js';
import { itemsRoutes } from './routes/items/index.js';
import { searchRoutes } from './routes/search/index.js';
import { embeddingsRoutes } from './routes/embeddings/index.js';
import { VectorsRepository } from './repositories/vectors.repository.js';
import { PoolEmbedder } from './services/embedder.js';
import { EmbeddingService } from './services/embedding.service.js';
import { HybridSearchService } from './services/hybrid-search.service.js';
import { importsRoutes } from './routes/imports/index.js';
import { recordsRoutes } from './routes/records/index.js';
import { ImportFiles } from './jobs/encrypted-file.js';
import { areaSpec, LocalObjectStore, openStore } from './storage/index.js';
import { JobRunner } from './jobs/runner.js';
import { startPeriodic } from './jobs/periodic.js';
import { JobsRepository } from './repositories/jobs.repository.js';
import { VaultUpgradeRepository } from './repositories/vault-upgrade.repository.js';
import { VaultUpgradeService } from './services/vault-upgrade.service.js';
import { ImportsService } from './services/imports.service.js';
import { chatRoutes } from './routes/chat/index.js';
import { ChatsRepository } from './repositories/chats.repository.js';
import { SeriesRepository } from './repositories/series.repository.js';
import { ChatService } from './services/chat.service.js';
import { ChatStreamService } from './services/chat-stream.service.js';
import { RetrievalService } from './services/retrieval.service.js';
import { SeriesService } from './services/series.service.js';
import { createSandboxPool, selectRuntime } from '../sandbox/select.js';
import type { SandboxRuntime } from '../sandbox/runtime.js';
import { createModelStore, type ModelStore } from '../sandbox/model-store.js';
import { ServerSettingsRepository } from './repositories/server-settings.repository.js';
import { ModelsService } from './services/models.service.js';
import { modelsRoutes } from './routes/models/index.js';
import { AuthService } from './services/auth.service.js';
import { InvitesService } from './services/invites.service.js';
import { InvitesRepository } from './repositories/invites.repository.js';
import { invitesRoutes } from './routes/invites/index.js';
import { FilesService } from './services/files.service.js';
import { ItemsService } from './services/items.service.js';
import { SearchService } from './services/search.service.js';
// ---- export, account deletion, operations (issue 6) ----
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { ExportService } from './export/export.service.js';
import { ExportImportJobs } from './export/import-job.js';
import { ExportImportService } from './export/export-import.service.js';
import { ChatsSection } from './export/sections/chats.js';
import { FilesSection } from './export/sections/files.js';
import { ItemsSection } from './export/sections/items.js';
import { SeriesSection } from './export/sections/series.js';
import { FoldersSection } from './export/sections/folders.js';
import { Metrics } from './metrics/registry.js';
import { ExportRepository } from './repositories/export.repository.js';
import { exportRoutes } from './routes/export/index.js';
import { AccountService } from './services/account.service.js';
import { unauthorized } from './errors.js';
// ---- end export imports ----
import { buildExtractor } from './files/extraction/build.js';
import { extractionRoutes } from './routes/extraction/index.js';
import { EXTRACT_JOB, ExtractionService } from './services/extraction.service.js';

// ---- integrations (issue 7) ----
import { SeriesAccumulator } from '../integrations/series/day-chunk.js';
import { IntegrationsRepository } from './repositories/integrations.repository.js';
import { googleAuthRoutes } from './routes/auth/google.js';
import { integrationsRoutes } from './routes/integrations/index.js';
import { ConnectorTokens } from './services/connector-tokens.js';
import { EpicConnector } from './services/connectors/epic.connector.js';
import { GoogleHealthConnector } from './services/connectors/google-health.connector.js';
import { GoogleAuthService } from './services/google-auth.service.js';
import { InboxService } from './services/inbox.service.js';
import { IntegrationsService } from './services/integrations.service.js';
// ---- end integrations imports ----

// ---- health views, manual entries, patient summary (issue 17) ----
import { PreferencesRepository } from './repositories/preferences.repository.js';
import { healthRoutes as healthViewsPlugin } from './routes/records/health-index.js';
import { ClinicalService } from './services/clinical.service.js';
import { DashboardService } from './services/dashboard.service.js';
import { LabsService } from './services/labs.service.js';
import { ManualService } from './services/manual.service.js';
import { PreferencesService } from './services/preferences.service.js';
import { SummaryService } from './summary/summary.service.js';
// ---- end health views imports ----
// ---- history, folders, permanent delete (issue 16) ----
import { FoldersRepository } from './repositories/folders.repository.js';
import { TrashRepository } from './repositories/trash.repository.js';
import { VersionsRepository } from './repositories/versions.repository.js';
import { foldersRoutes } from './routes/folders/index.js';
import { historyRoutes } from './routes/history/index.js';
import { FoldersService } from './services/folders.service.js';
import { HistoryService } from './services/history.service.js';
import { TrashService } from './services/trash.service.js';
// ---- end history imports ----
import { PROJECT_ROOT } from './compiled.js';
// ---- observability: metrics, traces (issue 20) ----
import { BacklogMetrics } from './metrics/backlog.js';
import { ChatMetrics } from './metrics/chat.js';
import { QueryObserver } from './metrics/db.js';
import { observeEventLoop } from './metrics/event-loop.js';
import { traceRequests } from './metrics/http-tracing.js';
import { JobMetrics } from './metrics/jobs.js';
import { observeStorage } from './metrics/storage.js';
import { StorageRepository } from './repositories/storage.repository.js';
import { startTracing } from './metrics/tracing.js';
// ---- end observability imports ----
// ---- several instances on one PostgreSQL (issue 19) ----
import { PgNotifier } from './cluster/notifier.js';
import { PgFailureThrottle, pgRateLimitStore } from './cluster/shared-limits.js';
import { RateLimitsRepository } from './repositories/rate-limits.repository.js';
import type { ForgetMatch, SessionRevocations } from './services/auth.service.js';
// ---- end instances imports ----

const WEB_DIST = path.join(fileURLToPath(PROJECT_ROOT), 'web', 'dist');

declare module 'fastify' {
  interface FastifyInstance {
    /** The items service, exposed so benchmarks can seed large vaults through it in bulk. */
    vaultItems?: ItemsService;
    /** Backlog and backup gauges, for the embedding/OCR workers and the backup helper to set. */
    backlog?: BacklogMetrics;
    /** Embeddings, exposed so tests can see which owners have an opened vector index. */
    embeddings?: EmbeddingService;
  }
}

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

const isLoopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

const SESSION_PURGE_EVERY_MS = 60 * 60_000;
/** The NOTIFY channel on which instances tell each other which cached sessions to drop. */
const REVOKED_CHANNEL = 'cv_session_revoked';

/** The composition root: config, database, repositories, services and routes, wired once. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  // Errors of idle database connections are logged, never fatal; the logger exists before the app.
  let logIdleError: (err: Error) => void = () => {};
  let databaseDead: (err: Error) => void = (err) => opts.onDatabaseDead?.(err);
  // Metrics first: the database reports every query's family and time to them (issue 20).
  const metrics = new Metrics();
  const queries = new QueryObserver(metrics);
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT ? await startTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT) : null;
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
  }).withTypeProvider<ZodTypeProvider>();
  // The request span is the first hook, so everything a request does is inside it (issue 20).
  if (tracing) traceRequests(app);
  databaseDead = (err) => {
    app.log.fatal({ err: { name: err.name, message: err.message } }, 'embedded database aborted; restart the server');
    opts.onDatabaseDead?.(err);
  };
  logIdleError = (err) =>
    app.log.warn({ err: { name: err.name, code: (err as { code?: string }).code } }, 'database connection lost; reconnecting on next query');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  // Repositories and services, each given exactly what it needs.
  const users = new UsersRepository(db);
  const sessions = new SessionsRepository(db);
  const audit = new AuditRepository(db);
  const plannerStats = new PlannerStats(db, { onError: (err) => app.log.warn({ err: { name: (err as Error).name } }, 'analyze failed') });
  app.addHook('onClose', async () => plannerStats.close());
  const itemsRepo = new ItemsRepository(db, (n) => plannerStats.noteWrites(n));
  const filesRepo = new FilesRepository(db);
  // ---- object storage: encrypted files and import staging, on disk or in S3 (issue 19) ----
  const fileObjects = await openStore(areaSpec(config.storage, 'files'));
  const importObjects = await openStore(areaSpec(config.storage, 'imports'));
  app.addHook('onClose', async () => {
    await fileObjects.close();
    await importObjects.close();
  });
  // On disk, writes cut off by a crash leave temporary files; in S3 an aborted multipart upload
  // leaves no object (a bucket lifecycle rule clears parts a crash left, see docs/self-host.md).
  if (fileObjects instanceof LocalObjectStore) await fileObjects.sweepTemps();
  if (importObjects instanceof LocalObjectStore) await importObjects.sweepTemps();
  const store = new FileStore(fileObjects);
  // ---- end object storage ----
  const invitesRepo = new InvitesRepository(db);
  const tokensRepo = new ApiTokensRepository(db);
  // ---- activity (issue 20): the audit log as its owner reads it, clients sealed to the inbox key ----
  const activity = new ActivityService(audit, new IntegrationsRepository(db), config.serverKey, app.log.child({ component: 'activity' }));
  // ---- end activity ----
  const apiTokens = new ApiTokensService(tokensRepo, activity);
  // ---- several instances: with PostgreSQL other instances may share the database (issue 19) ----
  // One instance id per process names its job leases. Revocations of cached unlocked sessions go
  // to the other instances by NOTIFY; the per-IP limits and the failed sign-in throttle live in
  // tables. Embedded PGlite is one process: memory is exact there and nothing is shared.
  const instanceId = randomUUID();
  const shared = config.DATABASE_URL !== undefined;
  let onListening = () => {};
  const notifier = shared
    ? new PgNotifier(
        config.DATABASE_URL!,
        db,
        (err) =>
          app.log.warn(
            { err: { name: err.name, code: (err as { code?: string }).code } },
            'revocation listener lost its connection; session cache off until it is back',
          ),
        () => onListening(),
      )
    : null;
  const revocations: SessionRevocations | undefined = notifier
    ? {
        publish: (m) => notifier.notify(REVOKED_CHANNEL, JSON.stringify(m)),
        get reliable() {
          return notifier.listening;
        },
      }
    : undefined;
  const rateLimits = shared ? new RateLimitsRepository(db) : null;
  // ---- end instances ----
  const auth = new AuthService(users, sessions, activity, {
    sessionTtlMs: config.SESSION_TTL_HOURS * 3_600_000,
    signup: { policy: config.SIGNUP, invites: invitesRepo },
    onRecovered: (userId) => apiTokens.revokeAll(userId),
    ...(revocations ? { revocations } : {}),
    ...(rateLimits ? { throttle: new PgFailureThrottle(rateLimits, config.serverKey) } : {}),
  });
  if (notifier) {
    onListening = () => auth.clearCache();
    notifier.on(REVOKED_CHANNEL, (payload) => {
      try {
        auth.forgetLocal(JSON.parse(payload) as ForgetMatch);
      } catch {
        // Not ours to act on: every sender is this same code.
      }
    });
    await notifier.start();
    app.addHook('onClose', async () => notifier.close());
  }
  const invites = new InvitesService(invitesRepo);
  // Expired session rows still hold the vault key wrapped under the old cookie secret: delete
  // them at start-up and every hour rather than leaving them until the next login.
  const sessionPurge = await startPeriodic(
    async () => {
      const n = await sessions.deleteExpired();
      if (n > 0) app.log.info({ purged: n }, 'expired sessions deleted');
    },
    SESSION_PURGE_EVERY_MS,
    (err) => app.log.warn({ err: { name: (err as Error).name } }, 'expired session purge failed'),
  );
  app.addHook('preClose', async () => sessionPurge.stop());
  const items = new ItemsService(itemsRepo);
  // ---- history and folders hook into item saves (issue 16) ----
  const history = new HistoryService(new VersionsRepository(db), itemsRepo, items, {
    maxVersions: config.HISTORY_MAX_VERSIONS,
    maxAgeDays: config.HISTORY_MAX_AGE_DAYS,
  });
  const folders = new FoldersService(new FoldersRepository(db), items);
  items.useHooks({
    archive: (...a) => history.archive(...a),
    payloadAt: (...a) => history.payloadAt(...a),
    merge: (...a) => history.merge(...a),
    move: (...a) => folders.move(...a),
  });
  const trash = new TrashService(new TrashRepository(db), store, app.log.child({ component: 'trash' }), {
    retentionDays: config.TRASH_RETENTION_DAYS,
    everyMs: 3_600_000,
  });
  // ---- end history ----
  app.decorate('vaultItems', items);
  const search = new SearchService(itemsRepo, items, folders);
  const extractor = buildExtractor(config);
  const files = new FilesService(
    filesRepo,
    itemsRepo,
    items,
    store,
    { pdfMaxBytes: config.PDF_EXTRACT_MAX_MB * 1024 * 1024, extractMaxBytes: config.EXTRACT_MAX_MB * 1024 * 1024 },
    extractor,
  );

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Radix dialogs inject a small <style> for scroll locking.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: config.secureCookies ? [] : null,
      },
    },
    strictTransportSecurity: config.secureCookies,
    crossOriginEmbedderPolicy: false,
  });
  // ---- chat and the sandbox pool ----
  const seriesRepo = new SeriesRepository(db);
  const series = new SeriesService(seriesRepo);
  const sandboxLog = app.log.child({ component: 'sandbox' });
  const runtime = opts.sandboxRuntime ?? (await selectRuntime(config.sandbox, sandboxLog));
  // Settings -> Models: the default chat model an admin picked there overrides OLLAMA_MODEL.
  const models = new ModelsService(new ServerSettingsRepository(db), {
    store: opts.modelStore !== undefined ? opts.modelStore : createModelStore(config.sandbox, runtime),
    memoryMb: config.sandbox.memoryMb,
    gpus: config.sandbox.gpus,
    numCtx: config.sandbox.numCtx,
    envChatModel: config.sandbox.model,
    envEmbedModel: config.sandbox.embedModel,
    isAdmin: (userId) => invitesRepo.isAdmin(userId),
  });
  const pool = runtime.kind === 'none' ? null : createSandboxPool(config.sandbox, runtime, sandboxLog, () => models.defaultChatModel());
  void pool?.start();
  // ---- embeddings (issue 15) ----
  await models.defaultEmbedModel();
  const embedder = pool ? new PoolEmbedder(pool, () => models.embedModelNow(), runtime.kind === 'docker' ? config.sandbox.modelsDir : undefined) : null;
  const embeddings = new EmbeddingService(new VectorsRepository(db), items, embedder, app.log.child({ component: 'embeddings' }));
  const hybrid = new HybridSearchService(search, items, embeddings);
  app.decorate('embeddings', embeddings);
  app.addHook('onClose', async () => embeddings.close());
  // ---- end embeddings ----
  const chat = new ChatService(new ChatsRepository(db), new RetrievalService(items, search, series, embeddings), pool, {
    model: config.sandbox.model,
    numCtx: config.sandbox.numCtx,
    runtime: runtime.kind,
    metrics: new ChatMetrics(metrics),
    defaultModel: () => models.defaultChatModel(),
  });
  app.addHook('onClose', async () => {
    await pool?.drain(10_000);
  });

  await app.register(cookie);
  await app.register(rateLimit, { global: false, ...(rateLimits ? { store: pgRateLimitStore(rateLimits, config.serverKey) } : {}) });
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });

  app.decorateRequest('session', null);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (!isApiRequest(req)) return;
    reply.header('cache-control', 'no-store');
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      // A script, not a browser: cookies are ignored (a page cannot ride on them) and the Origin
      // check has nothing to protect, since the credential is only ever sent on purpose.
      const session = await apiTokens.authenticate(bearer, req.headers['user-agent']);
      if (!session) {
        throw new AppError(401, 'invalid_token', 'The API token is invalid, expired or revoked.', { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      enforceTokenScope(req, session);
      req.session = session;
    } else {
      checkOrigin(req, config);
      req.session = await auth.authenticate(req.cookies[sessionCookieName(config)]);
    }
    if (req.session) req.log = req.log.child({ userId: req.session.userId });
  });

  // ---- operations: metrics and OpenAPI, registered before the routes they describe (issue 6) ----
  metrics.instrument(app);
  if (pool) metrics.observePool(() => pool.metrics());
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    // Counts only, never content; still, a public deployment should not show its traffic.
    if (config.METRICS_TOKEN && !bearerMatches(req.headers.authorization, config.METRICS_TOKEN)) throw unauthorized('A metrics token is required.');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Context Vault API', version: '1' },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: sessionCookieName(config) }, apiToken: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  // Swagger UI's page loads only its own scripts and styles from /docs/static, which the app's
  // CSP (script-src 'self') already allows; the validator badge would call out, so it is off.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null }, staticCSP: false });
  // ---- end operations ----

  const hasWeb = existsSync(path.join(WEB_DIST, 'index.html'));
  await app.register(healthRoutes({ db, hasWeb }));
  await app.register(authRoutes({ auth, config }));
  await app.register(activityRoutes({ activity }));
  await app.register(invitesRoutes({ invites }));
  await app.register(tokensRoutes({ tokens: apiTokens }));
  if (config.SIGNUP === 'open' && !isLoopback(config.publicUrl)) {
    app.log.warn('SIGNUP=open on a public address: anyone who reaches this server can create an account (set SIGNUP=invite)');
  }
  await app.register(itemsRoutes({ items, folders }));
  await app.register(historyRoutes({ history, trash }));
  await app.register(foldersRoutes({ folders }));
  app.decorate('trash', trash);
  trash.start();
  app.addHook('preClose', async () => {
    await trash.stop();
  });
  await app.register(filesRoutes({ files }));
  await app.register(searchRoutes({ hybrid }));
  await app.register(embeddingsRoutes({ embeddings }));
  // The cheap trigger of the embedding sweep: any write by an unlocked owner starts it, and
  // reads do now and then (imports and inbox batches write in the background). Signing out or
  // deleting the account drops the owner's opened vector index.
  app.addHook('onResponse', async (req, reply) => {
    const session = req.session;
    if (!session || reply.statusCode >= 400) return;
    const route = `${req.method} ${req.routeOptions.url ?? ''}`;
    if (route === 'POST /api/auth/logout' || route === 'DELETE /api/account') embeddings.evict(session.userId);
    else embeddings.touch(session, req.method !== 'GET' && req.method !== 'HEAD');
  });
  await app.register(chatRoutes({ chat, stream: new ChatStreamService(chat), perMinute: config.RATE_LIMIT_CHAT_PER_MIN }));
  await app.register(modelsRoutes({ models }));

  // ---- health imports: jobs, encrypted import files, series (issue 3) ----
  const importFiles = new ImportFiles(importObjects, areaSpec(config.storage, 'imports'));
  const jobsRepo = new JobsRepository(db);
  const jobMetrics = new JobMetrics(metrics);
  const jobRunner = new JobRunner(jobsRepo, importFiles, app.log.child({ component: 'jobs' }), {
    maxConcurrent: 2,
    perUser: 1,
    progressMs: 500,
    maxAttempts: 3,
    resumeWithinMs: 7 * 24 * 3_600_000,
    budget: { baseMs: config.IMPORT_BUDGET_BASE_S * 1000, msPerMB: config.IMPORT_BUDGET_S_PER_MB * 1000 },
    observer: jobMetrics,
    leaseMs: config.JOB_LEASE_S * 1000,
    instanceId,
    // Another instance may be receiving an upload into the shared store while this one starts.
    sweepGraceMs: shared ? 24 * 3_600_000 : 0,
  });
  jobMetrics.observeQueue(() => jobRunner.stats());
  const workerHeapPeak = metrics.gauge({
    name: 'cv_import_worker_heap_peak_bytes',
    help: 'Most heap an Apple Health import worker was seen using since start.',
  });
  const workerHeapLimit = metrics.gauge({ name: 'cv_import_worker_heap_limit_bytes', help: 'The heap limit of the import worker that used the most heap.' });
  let heapPeak = 0;
  const imports = new ImportsService(jobsRepo, jobRunner, importFiles, items, files, series, {
    maxImportBytes: config.MAX_IMPORT_MB * 1024 * 1024,
    onWorkerStats: (s) => {
      if (s.heapPeak <= heapPeak) return;
      heapPeak = s.heapPeak;
      workerHeapPeak.set(s.heapPeak);
      workerHeapLimit.set(s.heapLimitMb * 1024 * 1024);
    },
  });
  app.addHook('onClose', async () => imports.close());
  // Planner statistics: at start-up, after each import, and as items are written (PlannerStats).
  await plannerStats.analyze();
  jobRunner.onJobDone(() => plannerStats.analyze());
  const vaultUpgrade = new VaultUpgradeService(
    new VaultUpgradeRepository(db),
    jobsRepo,
    jobRunner,
    items,
    series,
    app.log.child({ component: 'vault-upgrade' }),
  );
  // Registered before recovery, so interrupted extractions resume like imports (issue 15).
  const extraction = new ExtractionService(jobsRepo, jobRunner, items, files, extractor, { maxBytes: config.EXTRACT_MAX_MB * 1024 * 1024 });
  jobRunner.register(EXTRACT_JOB, extraction);
  await jobRunner.recover();
  // Interrupted jobs resume once a request brings their owner's keys (they are never stored);
  // a vault written before 0011 starts its upgrade the same way.
  app.addHook('onRequest', async (req) => {
    if (!req.session) return;
    await jobRunner.resumeFor(req.session);
    await vaultUpgrade.ensure(req.session);
  });
  app.addHook('preClose', async () => {
    await jobRunner.close();
  });
  await app.register(importsRoutes({ imports, maxImportBytes: config.MAX_IMPORT_MB * 1024 * 1024 }));
  await app.register(recordsRoutes({ series }));
  // ---- end health imports ----

  // ---- text extraction and OCR (issue 15) ----
  files.useExtractionJobs((session, itemId) => extraction.request(session, itemId));
  await app.register(extractionRoutes({ extraction }));
  // ---- end text extraction ----

  // ---- health views, manual entries, patient summary (issue 17) ----
  const preferences = new PreferencesService(new PreferencesRepository(db));
  const labs = new LabsService(items);
  const clinical = new ClinicalService(items);
  await app.register(
    healthViewsPlugin({
      labs,
      clinical,
      preferences,
      dashboard: new DashboardService(series, preferences, items),
      manual: new ManualService(items, series),
      summary: new SummaryService({ items, clinical, labs, series, preferences }, audit),
    }),
  );
  // ---- end health views ----

  // ---- export, re-import and account deletion (issue 6) ----
  const exportRepo = new ExportRepository(db);
  // Order matters: an importer reads files before the items that point at them, items before chats.
  const exporter = new ExportService(
    [
      new FilesSection(files, filesRepo, exportRepo),
      new FoldersSection(folders),
      new ItemsSection(items, exportRepo, folders),
      new ChatsSection(chat, exportRepo),
      new SeriesSection(series),
      new PreferencesSection(preferences),
    ],
    { spoolDir: path.join(config.dataDir, 'tmp'), audit, metrics },
  );
  const importJobs = new ExportImportJobs(jobsRepo, jobRunner, importFiles, new ExportImportService(() => exporter.sections), {
    maxImportBytes: config.MAX_IMPORT_MB * 1024 * 1024,
    audit,
    metrics,
  });
  const account = new AccountService(auth, exportRepo, audit, store, (userId) => importFiles.removeUser(userId), app.log.child({ component: 'account' }));
  await app.register(exportRoutes({ exporter, importJobs, account, config }));
  // ---- end export ----

  // ---- integrations: Google sign-in, Epic/SMART, Google Health, background sync + inbox (issue 7) ----
  const integrationsRepo = new IntegrationsRepository(db);
  const inbox = new InboxService(integrationsRepo, items, {
    checkEveryMs: 10_000,
    serverKey: config.serverKey,
    storeSamples: async (session, samples) => {
      const acc = new SeriesAccumulator();
      acc.addMany(samples);
      await series.store(session, acc.drainAll());
    },
  });
  const google = new GoogleAuthService(config, integrationsRepo, users, auth);
  const integrations = new IntegrationsService(
    integrationsRepo,
    new ConnectorTokens(integrationsRepo, config.serverKey),
    inbox,
    audit,
    [new EpicConnector(config), new GoogleHealthConnector(config, google)],
    config.serverKey,
    app.log.child({ component: 'sync' }),
    jobsRepo,
    { tickMs: config.SYNC_TICK_S * 1000, leaseMs: config.JOB_LEASE_S * 1000, instanceId, observer: jobMetrics },
  );
  imports.addViewer('sync:', (row) => {
    const j = integrations.syncView(row);
    return {
      id: j.id,
      kind: row.kind,
      status: j.status,
      progress: { done: j.status === 'running' ? 0 : 1, total: 1, unit: 'syncs' },
      ...(j.result ? { result: j.result } : {}),
      ...(j.error ? { error: j.error.message, errorCode: j.error.code } : {}),
    };
  });
  // A live session empties its inbox (cheap check, throttled per user inside the service).
  app.addHook('onRequest', async (req) => {
    if (req.session) await inbox.maybeDrain(req.session, req.log);
  });
  await app.register(googleAuthRoutes({ google, inbox, config }));
  await app.register(integrationsRoutes({ integrations, config }));
  app.decorate('integrations', integrations);
  integrations.start();
  app.addHook('preClose', async () => {
    await integrations.stop();
  });
  // ---- end integrations ----

  if (hasWeb) await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: 'index.html' });
  app.setNotFoundHandler((req, reply) => {
    // Any non-API GET is a page of the single-page app.
    if (hasWeb && req.method === 'GET' && !isApiRequest(req) && !req.url.startsWith('/health')) {
      return reply.type('text/html').sendFile('index.html');
    }
    throw notFound('Route');
  });

  // ---- observability: event loop, backlogs and backups, trace flush (issue 20) ----
  const eventLoop = observeEventLoop(metrics);
  const storage = new StorageRepository(db);
  observeStorage(metrics, { dataDir: config.dataDir, databaseBytes: () => storage.databaseBytes(), embedded: !config.DATABASE_URL });
  app.decorate('backlog', new BacklogMetrics(metrics));
  // ---- end observability ----

  app.addHook('onClose', async () => {
    if (!opts.db) await db.destroy();
    eventLoop.stop();
    await tracing?.shutdown();
  });
  return app;
}
