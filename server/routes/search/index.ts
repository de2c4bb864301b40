import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { HybridSearchService } from '../../services/hybrid-search.service.js';
import { SearchQuery, SearchResponse } from '../../../contract/index.js';
import { boundTexts } from '../../http/item-text.js';

export const searchRoutes =
  (deps: { hybrid: HybridSearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/search', { schema: { querystring: SearchQuery, response: { 200: SearchResponse } } }, async (req) => {
      const { results, mode } = await deps.hybrid.explain(requireSession(req), req.query);
      const items = boundTexts(
        results.map((r) => r.item),
        req.query.text,
      );
      return {
        results: results.map((r, i) => ({ item: items[i]!, score: r.score, snippet: r.snippet, ...(r.match?.page ? { page: r.match.page } : {}) })),
        mode,
      };
    });
  };
