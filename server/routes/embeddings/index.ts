import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { EmbeddingService } from '../../services/embedding.service.js';

const Status = z.object({ mode: z.enum(['hybrid', 'keyword']), model: z.string().nullable(), total: z.number(), embedded: z.number(), running: z.boolean() });

/** Semantic search's state for the signed-in owner, and the backfill of an existing vault. */
export const embeddingsRoutes =
  (deps: { embeddings: EmbeddingService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/embeddings', { schema: { response: { 200: Status } } }, async (req) => deps.embeddings.status(requireSession(req)));

    /** Starts (or continues) embedding whatever is not embedded yet; poll GET for progress. */
    app.post('/api/embeddings/backfill', { schema: { response: { 202: Status } } }, async (req, reply) => {
      const session = requireSession(req);
      deps.embeddings.touch(session);
      return reply.code(202).send(await deps.embeddings.status(session));
    });
  };
