import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { badRequest } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import type { ActivityService } from '../../services/activity.service.js';
import { ACTIVITY_CURSOR, ActivityPage, ActivityQuery } from '../../../contract/index.js';

export const activityRoutes =
  (deps: { activity: ActivityService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/activity', { schema: { querystring: ActivityQuery, response: { 200: ActivityPage } } }, async (req) => {
      const session = requireSession(req);
      const { limit, cursor } = req.query;
      // The documented code for every unusable cursor, malformed or another user's (the service's).
      if (cursor !== undefined && !ACTIVITY_CURSOR.test(cursor)) throw badRequest('Invalid cursor: use the nextCursor of a previous page.', 'invalid_cursor');
      return deps.activity.list(session, limit, cursor);
    });
  };
