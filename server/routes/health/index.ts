import { sql } from 'kysely';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/index.js';
import { openStore, STORAGE_CHECK_TIMEOUT_MS, type ObjectStore, type StorageSpec } from '../../storage/index.js';

export const healthRoutes =
  (deps: { db: Database; hasWeb: boolean; storage?: StorageSpec }): FastifyPluginAsyncZod =>
  async (app) => {
    // `/health` is also the web app's Health page: a browser navigating there asks for HTML and
    // gets the app; probes and scripts get the liveness answer.
    app.get('/health', { config: { rateLimit: false } }, async (req, reply) => {
      if (deps.hasWeb && /\btext\/html\b/.test(req.headers.accept ?? '')) return reply.type('text/html').sendFile('index.html');
      return { status: 'ok' };
    });

    app.get('/health/db', async (_req, reply) => {
      try {
        await sql`select 1`.execute(deps.db);
        return { status: 'ok' };
      } catch {
        return reply.code(503).send({ status: 'unavailable' });
      }
    });

    // Readiness of the object store: the bucket answers a HEAD (S3), or the data directory is
    // writable (local). Its own client, opened on first use, so a probe never waits behind uploads.
    const spec = deps.storage;
    if (!spec) return;
    let store: Promise<ObjectStore> | undefined;
    app.addHook('onClose', async () => {
      if (store) await (await store).close();
    });
    app.get('/health/storage', async (req, reply) => {
      try {
        await (await (store ??= openStore(spec))).check(STORAGE_CHECK_TIMEOUT_MS);
        return { status: 'ok' };
      } catch (err) {
        // The cause is for the operator (it names the variable and the address), not the probe.
        req.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'object storage is not ready');
        return reply.code(503).send({ status: 'unavailable' });
      }
    });
  };
