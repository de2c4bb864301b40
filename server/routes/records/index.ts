import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { badRequest } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import type { SeriesService } from '../../services/series.service.js';
import { Series, SeriesQuery } from '../../../contract/index.js';

export const recordsRoutes =
  (deps: { series: SeriesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/records/series', { schema: { querystring: SeriesQuery, response: { 200: Series } } }, async (req) => {
      const session = requireSession(req);
      if (req.query.from && req.query.to && req.query.from > req.query.to) throw badRequest('from must not be after to.', 'invalid_range');
      return deps.series.days(session, req.query);
    });
  };
