import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { HybridSearchService } from '../../services/hybrid-search.service.js';
import { ItemSchema } from '../schemas.js';

export const searchRoutes = (deps: { hybrid: HybridSearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/search',
      {
        schema: {
          querystring: z.object({ q: z.string().trim().min(1, 'must not be empty').max(500), limit: z.coerce.number().int().min(1).max(100).default(20) }),
          response: {
            200: z.object({
              results: z.array(z.object({ item: ItemSchema, score: z.number(), page: z.number().optional() })),
              /** `keyword` = no embedding model took part: the web app says "keyword search only". */
              mode: z.enum(['hybrid', 'keyword']),
            }),
          },
        },
      },
      async (req) => {
        const { results, mode } = await deps.hybrid.query(requireSession(req), req.query.q, req.query.limit);
        return { results: results.map((r) => ({ item: r.item, score: r.score, ...(r.match?.page ? { page: r.match.page } : {}) })), mode };
      },
    );
  };
