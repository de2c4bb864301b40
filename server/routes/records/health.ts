import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { ClinicalService } from '../../services/clinical.service.js';
import type { DashboardService } from '../../services/dashboard.service.js';
import { badRequest } from '../../errors.js';
import type { LabsService } from '../../services/labs.service.js';
import { Preferences, type PreferencesService } from '../../services/preferences.service.js';
import { ClinicalParams, ClinicalResponse, Dashboard, DashboardQuery, LabsResponse, LabTrend, LabTrendParams, LabTrendQuery } from '../../../contract/index.js';

/** Lab trends, the lab list and the clinical lists (issue 17). */
export const healthViewRoutes =
  (deps: { labs: LabsService; clinical: ClinicalService; preferences: PreferencesService; dashboard: DashboardService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/api/records/labs', { schema: { response: { 200: LabsResponse } } }, async (req) => {
      const session = requireSession(req);
      return { labs: await deps.labs.list(session, await deps.preferences.labUnits(session)) };
    });

    app.get('/api/records/labs/:code', { schema: { params: LabTrendParams, querystring: LabTrendQuery, response: { 200: LabTrend } } }, async (req) => {
      const session = requireSession(req);
      return deps.labs.trend(session, req.params.code, req.query.unit, await deps.preferences.labUnits(session));
    });

    app.get('/api/records/dashboard', { schema: { querystring: DashboardQuery, response: { 200: Dashboard } } }, async (req) => {
      const session = requireSession(req);
      if (req.query.from && req.query.to && req.query.from > req.query.to) throw badRequest('from must not be after to.', 'invalid_range');
      return deps.dashboard.get(session, req.query);
    });

    app.get('/api/preferences', { schema: { response: { 200: Preferences } } }, async (req) => deps.preferences.get(requireSession(req)));
    app.put('/api/preferences', { schema: { body: Preferences, response: { 200: Preferences } } }, async (req) =>
      deps.preferences.update(requireSession(req), req.body),
    );

    app.get('/api/records/clinical/:kind', { schema: { params: ClinicalParams, response: { 200: ClinicalResponse } } }, async (req) => ({
      entries: await deps.clinical.list(requireSession(req), req.params.kind),
    }));
  };
