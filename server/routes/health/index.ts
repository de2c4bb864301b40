import { sql } from 'kysely';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/index.js';

export const healthRoutes =
  (deps: { db: Database; hasWeb: boolean }): FastifyPluginAsyncZod =>
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
  };
