import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import type { SeriesService } from '../../services/series.service.js';

const LocalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)')
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'must be a real date');

export const SeriesQuery = z.object({ type: z.string().min(1).max(200), from: LocalDate.optional(), to: LocalDate.optional() });

export const SeriesResponse = z.object({
  type: z.string(),
  unit: z.string().nullable(),
  days: z.array(z.object({ date: z.string(), count: z.number(), min: z.number(), max: z.number(), mean: z.number(), sum: z.number() })),
});

export const recordsRoutes =
  (deps: { series: SeriesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/records/series', { schema: { querystring: SeriesQuery, response: { 200: SeriesResponse } } }, async (req) => {
      const session = requireSession(req);
      if (req.query.from && req.query.to && req.query.from > req.query.to) throw badRequest('from must not be after to.', 'invalid_range');
      return deps.series.days(session, req.query);
    });
  };
