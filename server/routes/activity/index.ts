import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { ActivityService } from '../../services/activity.service.js';
import { ActivityPage, ActivityQuery } from '../../../contract/index.js';

export const activityRoutes =
  (deps: { activity: ActivityService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/activity', { schema: { querystring: ActivityQuery, response: { 200: ActivityPage } } }, async (req) =>
      deps.activity.list(requireSession(req), req.query.limit, req.query.cursor),
    );
  };
