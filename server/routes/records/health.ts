import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { ClinicalService } from '../../services/clinical.service.js';
import type { DashboardService } from '../../services/dashboard.service.js';
import { badRequest } from '../../errors.js';
import type { LabsService } from '../../services/labs.service.js';
import { Preferences, type PreferencesService } from '../../services/preferences.service.js';

const Flag = z.enum(['low', 'high', 'normal', 'abnormal']);

export const LabsResponse = z.object({
  labs: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      panel: z.string(),
      unit: z.string(),
      count: z.number(),
      latest: z.object({ value: z.number(), date: z.string(), flag: Flag.optional() }),
      trend: z.enum(['up', 'down', 'flat']).optional(),
    }),
  ),
});

export const LabTrendResponse = z.object({
  code: z.string(),
  name: z.string(),
  unit: z.string(),
  units: z.array(z.string()),
  panel: z.string(),
  referenceRange: z.object({ low: z.number().optional(), high: z.number().optional() }).optional(),
  points: z.array(
    z.object({
      date: z.string(),
      value: z.number(),
      unit: z.string(),
      flag: Flag.optional(),
      itemId: z.string(),
      source: z.string(),
      low: z.number().optional(),
      high: z.number().optional(),
    }),
  ),
});

const LocalDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)')
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'must be a real date');

const Point = z.object({ date: z.string(), days: z.number(), count: z.number(), min: z.number(), max: z.number(), mean: z.number(), sum: z.number() });
export const DashboardResponse = z.object({
  available: z.array(z.object({ key: z.string(), title: z.string(), first: z.string(), last: z.string() })),
  cards: z.array(
    z.object({
      key: z.string(),
      title: z.string(),
      stat: z.enum(['mean', 'sum']),
      unit: z.string().nullable(),
      from: z.string(),
      to: z.string(),
      resolution: z.enum(['day', 'week', 'month']),
      first: z.string(),
      last: z.string(),
      series: z.array(z.object({ label: z.string(), code: z.string(), points: z.array(Point) })),
    }),
  ),
});

const Code = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:-]+$/, 'must be a code such as 4548-4');

const ClinicalKind = z.enum(['medications', 'allergies', 'conditions', 'immunizations', 'procedures']);
const Coding = z.object({ system: z.string().optional(), code: z.string(), display: z.string().optional() });
export const ClinicalResponse = z.object({
  entries: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      code: Coding.optional(),
      date: z.string().nullable(),
      group: z.string(),
      status: z.string().optional(),
      end: z.string().optional(),
      detail: z.string().optional(),
      criticality: z.string().optional(),
      reactions: z.array(z.string()).optional(),
      sources: z.array(z.object({ itemId: z.string(), source: z.string() })),
    }),
  ),
});

/** Lab trends, the lab list and the clinical lists (issue 17). */
export const healthViewRoutes =
  (deps: { labs: LabsService; clinical: ClinicalService; preferences: PreferencesService; dashboard: DashboardService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/records/labs', { schema: { response: { 200: LabsResponse } } }, async (req) => {
      const session = requireSession(req);
      return { labs: await deps.labs.list(session, await deps.preferences.labUnits(session)) };
    });

    app.get(
      '/api/records/labs/:code',
      {
        schema: {
          params: z.object({ code: Code }),
          querystring: z.object({ unit: z.string().min(1).max(20).optional() }),
          response: { 200: LabTrendResponse },
        },
      },
      async (req) => {
        const session = requireSession(req);
        return deps.labs.trend(session, req.params.code, req.query.unit, await deps.preferences.labUnits(session));
      },
    );

    app.get(
      '/api/records/dashboard',
      { schema: { querystring: z.object({ from: LocalDate.optional(), to: LocalDate.optional() }), response: { 200: DashboardResponse } } },
      async (req) => {
        const session = requireSession(req);
        if (req.query.from && req.query.to && req.query.from > req.query.to) throw badRequest('from must not be after to.', 'invalid_range');
        return deps.dashboard.get(session, req.query);
      },
    );

    app.get('/api/preferences', { schema: { response: { 200: Preferences } } }, async (req) => deps.preferences.get(requireSession(req)));
    app.put('/api/preferences', { schema: { body: Preferences, response: { 200: Preferences } } }, async (req) =>
      deps.preferences.update(requireSession(req), req.body),
    );

    app.get('/api/records/clinical/:kind', { schema: { params: z.object({ kind: ClinicalKind }), response: { 200: ClinicalResponse } } }, async (req) => ({
      entries: await deps.clinical.list(requireSession(req), req.params.kind),
    }));
  };
