import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { HybridSearchService } from '../../services/hybrid-search.service.js';
import { ListItemsQuery } from '../items/schema.js';
import { ItemSchema } from '../schemas.js';

/** The words, and the item list's filters with the same names and meanings. */
const SearchQuery = ListItemsQuery.pick({ kind: true, source: true, tag: true, folderId: true, recursive: true, from: true, to: true }).extend({
  q: z.string().trim().min(1, 'must not be empty').max(500),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const searchRoutes =
  (deps: { hybrid: HybridSearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/search',
      {
        schema: {
          querystring: SearchQuery,
          response: {
            200: z.object({
              results: z.array(z.object({ item: ItemSchema, score: z.number(), snippet: z.string(), page: z.number().optional() })),
              /** `keyword` = no embedding model took part: the web app says "keyword search only". */
              mode: z.enum(['hybrid', 'keyword']),
            }),
          },
        },
      },
      async (req) => {
        const { results, mode } = await deps.hybrid.explain(requireSession(req), req.query);
        return { results: results.map((r) => ({ item: r.item, score: r.score, snippet: r.snippet, ...(r.match?.page ? { page: r.match.page } : {}) })), mode };
      },
    );
  };
