import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { SearchService } from '../../services/search.service.js';
import { ItemSchema } from '../schemas.js';

export const searchRoutes = (deps: { search: SearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/search',
      {
        schema: {
          querystring: z.object({ q: z.string().trim().min(1, 'must not be empty').max(500), limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: { 200: z.object({ results: z.array(z.object({ item: ItemSchema, score: z.number() })) }) },
        },
      },
      async (req) => ({ results: await deps.search.search(requireSession(req), req.query.q, req.query.limit) }),
    );
  };
