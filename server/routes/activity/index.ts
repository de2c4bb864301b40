import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { ActivityService } from '../../services/activity.service.js';

const ActivityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'must be a cursor from a previous page')
    .optional(),
});

const ActivityPage = z.object({
  events: z.array(z.object({ action: z.string(), at: z.string(), client: z.string().optional() })),
  nextCursor: z.string().nullable(),
});

export const activityRoutes =
  (deps: { activity: ActivityService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/activity', { schema: { querystring: ActivityQuery, response: { 200: ActivityPage } } }, async (req) =>
      deps.activity.list(requireSession(req), req.query.limit, req.query.cursor),
    );
  };
