import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { SeriesAccumulator } from '../integrations/series/day-chunk.js';
import { createModelStore, type ModelStore } from '../sandbox/model-store.js';
import type { SandboxRuntime } from '../sandbox/runtime.js';
import { createSandboxPool, selectRuntime } from '../sandbox/select.js';
import { PgNotifier } from './cluster/notifier.js';
import { PgFailureThrottle, pgRateLimitStore } from './cluster/shared-limits.js';
import type { Config } from './config.js';
import type { Database } from './db/index.js';
import { PlannerStats } from './db/planner-stats.js';
import { ExportImportService } from './export/export-import.service.js';
import { ExportService } from './export/export.service.js';
import { ExportImportJobs } from './export/import-job.js';
import { ChatsSection } from './export/sections/chats.js';
import { FilesSection } from './export/sections/files.js';
import { FoldersSection } from './export/sections/folders.js';
import { ItemsSection } from './export/sections/items.js';
import { PreferencesSection } from './export/sections/preferences.js';
import { SeriesSection } from './export/sections/series.js';
import { buildExtractor } from './files/extraction/build.js';
import { FileStore } from './files/store.js';
import { ImportFiles } from './jobs/encrypted-file.js';
import { JobRunner } from './jobs/runner.js';
import { ChatMetrics } from './metrics/chat.js';
import { JobMetrics } from './metrics/jobs.js';
import type { Metrics } from './metrics/registry.js';
import { ApiTokensRepository } from './repositories/api-tokens.repository.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { ChatsRepository } from './repositories/chats.repository.js';
import { ExportRepository } from './repositories/export.repository.js';
import { FilesRepository } from './repositories/files.repository.js';
import { FoldersRepository } from './repositories/folders.repository.js';
import { IntegrationsRepository } from './repositories/integrations.repository.js';
import { InvitesRepository } from './repositories/invites.repository.js';
import { ItemsRepository } from './repositories/items.repository.js';
import { JobsRepository } from './repositories/jobs.repository.js';
import { PreferencesRepository } from './repositories/preferences.repository.js';
import { RateLimitsRepository } from './repositories/rate-limits.repository.js';
import { SeriesRepository } from './repositories/series.repository.js';
import { ServerSettingsRepository } from './repositories/server-settings.repository.js';
import { SessionsRepository } from './repositories/sessions.repository.js';
import { StorageRepository } from './repositories/storage.repository.js';
import { TrashRepository } from './repositories/trash.repository.js';
import { UsersRepository } from './repositories/users.repository.js';
import { VaultUpgradeRepository } from './repositories/vault-upgrade.repository.js';
import { VectorsRepository } from './repositories/vectors.repository.js';
import { VersionsRepository } from './repositories/versions.repository.js';
import { AccountService } from './services/account.service.js';
import { ActivityService } from './services/activity.service.js';
import { ApiTokensService } from './services/api-tokens.service.js';
import { AuthService, type ForgetMatch, type SessionRevocations } from './services/auth.service.js';
import { ChatStreamService } from './services/chat-stream.service.js';
import { ChatService } from './services/chat.service.js';
import { ClinicalService } from './services/clinical.service.js';
import { ConnectorTokens } from './services/connector-tokens.js';
import { EpicConnector } from './services/connectors/epic.connector.js';
import { GoogleHealthConnector } from './services/connectors/google-health.connector.js';
import { DashboardService } from './services/dashboard.service.js';
import { PoolEmbedder } from './services/embedder.js';
import { EmbeddingService } from './services/embedding.service.js';
import { EXTRACT_JOB, ExtractionService } from './services/extraction.service.js';
import { FilesService } from './services/files.service.js';
import { FoldersService } from './services/folders.service.js';
import { GoogleAuthService } from './services/google-auth.service.js';
import { HistoryService } from './services/history.service.js';
import { HybridSearchService } from './services/hybrid-search.service.js';
import { ImportsService } from './services/imports.service.js';
import { InboxService } from './services/inbox.service.js';
import { IntegrationsService } from './services/integrations.service.js';
import { InvitesService } from './services/invites.service.js';
import { ItemsService } from './services/items.service.js';
import { LabsService } from './services/labs.service.js';
import { ManualService } from './services/manual.service.js';
import { ModelsService } from './services/models.service.js';
import { PreferencesService } from './services/preferences.service.js';
import { RetrievalService } from './services/retrieval.service.js';
import { SearchService } from './services/search.service.js';
import { SeriesService } from './services/series.service.js';
import { SessionWork } from './services/session-work.js';
import { TrashService } from './services/trash.service.js';
import { VaultUpgradeService } from './services/vault-upgrade.service.js';
import { areaSpec, LocalObjectStore, openStore, STORAGE_CHECK_TIMEOUT_MS } from './storage/index.js';
import { SummaryService } from './summary/summary.service.js';

export interface ContainerOptions {
  config: Config;
  db: Database;
  /** The server's logger; each background component logs through a child naming it. */
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** Tests hand in a runtime (e.g. local processes speaking Ollama's API); otherwise the config picks one. */
  sandboxRuntime?: SandboxRuntime;
  /** Tests hand in where models are managed (the pull container with the stand-in's registry). */
  modelStore?: ModelStore | null;
}

/** The NOTIFY channel on which instances tell each other which cached sessions to drop. */
const REVOKED_CHANNEL = 'cv_session_revoked';

/** Everything the features use: repositories, then the services built on them, wired once. */
export type Container = Awaited<ReturnType<typeof buildContainer>>;

/**
 * Builds the repositories and services in dependency order. Nothing here registers a route or a
 * hook: features do (server/features/), plugins do (server/plugins/). What needs closing is
 * closed by {@link Container.close}, in the order written there.
 */
export async function buildContainer(o: ContainerOptions) {
  const { config, db, log, metrics } = o;
  const mb = (n: number) => n * 1024 * 1024;

  // Object storage: encrypted files and import staging, on disk or in S3.
  const fileObjects = await openStore(areaSpec(config.storage, 'files'));
  const importObjects = await openStore(areaSpec(config.storage, 'imports'));
  // On disk, writes cut off by a crash leave temporary files; in S3 an aborted multipart upload
  // leaves no object (a bucket lifecycle rule clears parts a crash left, see docs/self-host.md).
  if (fileObjects instanceof LocalObjectStore) await fileObjects.sweepTemps();
  if (importObjects instanceof LocalObjectStore) await importObjects.sweepTemps();
  const store = new FileStore(fileObjects);
  const importFiles = new ImportFiles(importObjects, areaSpec(config.storage, 'imports'));

  const plannerStats = new PlannerStats(db, { onError: (err) => log.warn({ err: { name: (err as Error).name } }, 'analyze failed') });
  const repos = {
    users: new UsersRepository(db),
    sessions: new SessionsRepository(db),
    audit: new AuditRepository(db),
    items: new ItemsRepository(db, (n) => plannerStats.noteWrites(n)),
    files: new FilesRepository(db),
    invites: new InvitesRepository(db),
    tokens: new ApiTokensRepository(db),
    integrations: new IntegrationsRepository(db),
    jobs: new JobsRepository(db),
    series: new SeriesRepository(db),
    export: new ExportRepository(db),
    storage: new StorageRepository(db),
  };

  // Several instances may share a PostgreSQL database. One instance id per process names its
  // job leases; revocations of cached unlocked sessions go to the other instances by NOTIFY; the
  // per-IP limits and the failed sign-in throttle live in tables. Embedded PGlite is one
  // process: memory is exact there and nothing is shared.
  const instanceId = randomUUID();
  const shared = config.DATABASE_URL !== undefined;
  let onListening = () => {};
  const notifier = shared
    ? new PgNotifier(
        config.DATABASE_URL!,
        db,
        (err) =>
          log.warn(
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
  const rateLimitStore = rateLimits ? pgRateLimitStore(rateLimits, config.serverKey) : undefined;

  // Accounts: the audit log as its owner reads it, API tokens, sign-in and invites.
  const activity = new ActivityService(repos.audit, repos.integrations, config.serverKey, log.child({ component: 'activity' }));
  const sessionWork = new SessionWork();
  const apiTokens = new ApiTokensService(repos.tokens, activity, (m): Promise<void> => auth.forget(m));
  const auth = new AuthService(repos.users, repos.sessions, activity, {
    sessionTtlMs: config.SESSION_TTL_HOURS * 3_600_000,
    signup: { policy: config.SIGNUP, invites: repos.invites },
    onRecovered: (userId) => apiTokens.revokeAll(userId),
    ...(revocations ? { revocations } : {}),
    ...(rateLimits ? { throttle: new PgFailureThrottle(rateLimits, config.serverKey) } : {}),
    work: sessionWork,
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
  }
  const invites = new InvitesService(repos.invites, config.SIGNUP);

  // The vault: items, with history and folders hooked into their saves; trash, search, files.
  const items = new ItemsService(repos.items);
  const history = new HistoryService(new VersionsRepository(db), repos.items, items, {
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
  const trash = new TrashService(new TrashRepository(db), store, log.child({ component: 'trash' }), {
    retentionDays: config.TRASH_RETENTION_DAYS,
    everyMs: 3_600_000,
  });
  const search = new SearchService(repos.items, items, folders);
  const extractor = buildExtractor(config);
  const files = new FilesService(
    repos.files,
    repos.items,
    items,
    store,
    { pdfMaxBytes: mb(config.PDF_EXTRACT_MAX_MB), extractMaxBytes: mb(config.EXTRACT_MAX_MB) },
    extractor,
  );
  const series = new SeriesService(repos.series);

  // The sandbox pool, the models it serves, embeddings and chat.
  const sandboxLog = log.child({ component: 'sandbox' });
  const runtime = o.sandboxRuntime ?? (await selectRuntime(config.sandbox, sandboxLog));
  // Settings -> Models: the default chat model an admin picked there overrides OLLAMA_MODEL.
  const serverSettings = new ServerSettingsRepository(db);
  const models = new ModelsService(serverSettings, {
    store: o.modelStore !== undefined ? o.modelStore : createModelStore(config.sandbox, runtime),
    memoryMb: config.sandbox.memoryMb,
    gpus: config.sandbox.gpus,
    numCtx: config.sandbox.numCtx,
    envChatModel: config.sandbox.model,
    envEmbedModel: config.sandbox.embedModel,
    isAdmin: (userId) => repos.invites.isAdmin(userId),
  });
  const pool = runtime.kind === 'none' ? null : createSandboxPool(config.sandbox, runtime, sandboxLog, () => models.defaultChatModel());
  void pool?.start();
  await models.defaultEmbedModel();
  // The models directory is this server's to look into only for a Docker runtime it chose
  // itself; a runtime handed in (tests) keeps its models where it likes.
  const modelsDir = runtime.kind === 'docker' && !o.sandboxRuntime ? config.sandbox.modelsDir : undefined;
  const embedder = pool ? new PoolEmbedder(pool, () => models.embedModelNow(), modelsDir) : null;
  const embeddings = new EmbeddingService(new VectorsRepository(db), items, embedder, log.child({ component: 'embeddings' }));
  const hybrid = new HybridSearchService(search, items, embeddings);
  const chat = new ChatService(new ChatsRepository(db), new RetrievalService(items, search, series, embeddings), pool, {
    model: config.sandbox.model,
    numCtx: config.sandbox.numCtx,
    runtime: runtime.kind,
    metrics: new ChatMetrics(metrics),
    defaultModel: () => models.defaultChatModel(),
  });
  const chatStream = new ChatStreamService(chat, sessionWork);

  // Background jobs: health imports, extraction, the vault upgrade.
  const jobMetrics = new JobMetrics(metrics);
  const jobRunner = new JobRunner(repos.jobs, importFiles, log.child({ component: 'jobs' }), {
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
  const imports = new ImportsService(repos.jobs, jobRunner, importFiles, items, files, series, {
    maxImportBytes: mb(config.MAX_IMPORT_MB),
    onWorkerStats: (s) => {
      if (s.heapPeak <= heapPeak) return;
      heapPeak = s.heapPeak;
      workerHeapPeak.set(s.heapPeak);
      workerHeapLimit.set(s.heapLimitMb * 1024 * 1024);
    },
  });
  // Planner statistics: at start-up, after each import, and as items are written (PlannerStats).
  await plannerStats.analyze();
  jobRunner.onJobDone(() => plannerStats.analyze());
  const vaultUpgrade = new VaultUpgradeService(new VaultUpgradeRepository(db), repos.jobs, jobRunner, items, series, log.child({ component: 'vault-upgrade' }));
  const extraction = new ExtractionService(repos.jobs, jobRunner, items, files, extractor, { maxBytes: mb(config.EXTRACT_MAX_MB) });
  jobRunner.register(EXTRACT_JOB, extraction);
  files.useExtractionJobs((session, itemId) => extraction.request(session, itemId));

  // Health views, hand entries and the patient summary.
  const preferences = new PreferencesService(new PreferencesRepository(db));
  const labs = new LabsService(items);
  const clinical = new ClinicalService(items);
  const health = {
    labs,
    clinical,
    preferences,
    dashboard: new DashboardService(series, preferences, items),
    manual: new ManualService(items, series),
    summary: new SummaryService({ items, clinical, labs, series, preferences }, repos.audit),
  };

  // Export, re-import and account deletion. Order matters: an importer reads files before the
  // items that point at them, items before chats.
  const exporter = new ExportService(
    [
      new FilesSection(files, repos.export),
      new FoldersSection(folders),
      new ItemsSection(items, repos.export, folders, repos.files),
      new ChatsSection(chat, repos.export),
      new SeriesSection(series),
      new PreferencesSection(preferences),
    ],
    { spoolDir: path.join(config.dataDir, 'tmp'), audit: repos.audit, metrics, storageReady: () => fileObjects.check(STORAGE_CHECK_TIMEOUT_MS) },
  );
  const importJobs = new ExportImportJobs(repos.jobs, jobRunner, importFiles, new ExportImportService(() => exporter.sections), {
    maxImportBytes: mb(config.MAX_IMPORT_MB),
    audit: repos.audit,
    metrics,
  });
  // Every job kind is registered by now (imports, extraction, the vault upgrade, export
  // re-imports): recovery fails the kinds it does not know, so interrupted jobs of all of these
  // resume when their owners sign in.
  await jobRunner.recover();
  const account = new AccountService(auth, repos.export, repos.audit, store, (userId) => importFiles.removeUser(userId), log.child({ component: 'account' }));

  // Integrations: Google sign-in, Epic/SMART, Google Health, background sync and the inbox.
  const inbox = new InboxService(repos.integrations, items, {
    checkEveryMs: 10_000,
    serverKey: config.serverKey,
    storeSamples: async (session, samples) => {
      const acc = new SeriesAccumulator();
      acc.addMany(samples);
      await series.store(session, acc.drainAll());
    },
    removeSamples: (session, samples) => series.remove(session, samples, { anySource: true }),
  });
  const google = new GoogleAuthService(config, repos.integrations, repos.users, auth, { audit: activity, spent: rateLimits ?? new RateLimitsRepository(db) });
  const integrations = new IntegrationsService(
    repos.integrations,
    new ConnectorTokens(repos.integrations, config.serverKey),
    inbox,
    activity,
    [new EpicConnector(config), new GoogleHealthConnector(config, google)],
    config.serverKey,
    log.child({ component: 'sync' }),
    repos.jobs,
    {
      tickMs: config.SYNC_TICK_S * 1000,
      leaseMs: config.JOB_LEASE_S * 1000,
      instanceId,
      observer: jobMetrics,
      manualSyncCooldownMs: config.SYNC_COOLDOWN_S * 1000,
    },
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

  return {
    config,
    db,
    metrics,
    rateLimitStore,
    sessions: repos.sessions,
    databaseBytes: () => repos.storage.databaseBytes(),
    serverSettings,
    activity,
    apiTokens,
    auth,
    invites,
    items,
    history,
    folders,
    trash,
    search,
    hybrid,
    files,
    series,
    pool,
    models,
    embeddings,
    chat,
    chatStream,
    jobRunner,
    imports,
    vaultUpgrade,
    extraction,
    health,
    exporter,
    importJobs,
    account,
    inbox,
    google,
    integrations,
    /**
     * Closes what the container opened, in this order, once the features have stopped their
     * background work: work in flight first, then the pool and listeners, then storage.
     */
    async close(): Promise<void> {
      await imports.close();
      await embeddings.close();
      await pool?.drain(10_000);
      await notifier?.close();
      await plannerStats.close();
      await fileObjects.close();
      await importObjects.close();
    },
  };
}
