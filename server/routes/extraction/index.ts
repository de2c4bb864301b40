import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { ExtractionService } from '../../services/extraction.service.js';
import { IdParams, JobAccepted } from '../../../contract/index.js';

/** `POST /api/items/:id/extract`: read the item's file again, as a job (`GET /api/jobs/:id`). */
export const extractionRoutes =
  (deps: { extraction: ExtractionService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/api/items/:id/extract', { schema: { params: IdParams, response: { 202: JobAccepted } } }, async (req, reply) => {
      const r = await deps.extraction.request(requireSession(req), req.params.id);
      return reply.code(202).send(r);
    });
  };
