import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { HybridSearchService } from '../../services/hybrid-search.service.js';
import { SearchQuery, SearchResponse } from '../../../contract/index.js';

export const searchRoutes =
  (deps: { hybrid: HybridSearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/search', { schema: { querystring: SearchQuery, response: { 200: SearchResponse } } }, async (req) => {
      const { results, mode } = await deps.hybrid.explain(requireSession(req), { ...req.query, text: req.query.text ?? 'full' });
      return { results: results.map((r) => ({ item: r.item, score: r.score, snippet: r.snippet, ...(r.match?.page ? { page: r.match.page } : {}) })), mode };
    });
  };
