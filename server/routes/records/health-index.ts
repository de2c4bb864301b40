import type { FastifyPluginAsync } from 'fastify';
import type { ClinicalService } from '../../services/clinical.service.js';
import type { DashboardService } from '../../services/dashboard.service.js';
import type { LabsService } from '../../services/labs.service.js';
import type { ManualService } from '../../services/manual.service.js';
import type { PreferencesService } from '../../services/preferences.service.js';
import type { SummaryService } from '../../summary/summary.service.js';
import { healthViewRoutes } from './health.js';
import { manualRoutes } from './manual.js';
import { summaryRoutes } from './summary.js';

/** The health views' routes (issue 17): lab trends, clinical lists, dashboard, hand entries, patient summary. */
export const healthRoutes =
  (deps: {
    labs: LabsService;
    clinical: ClinicalService;
    preferences: PreferencesService;
    dashboard: DashboardService;
    manual: ManualService;
    summary: SummaryService;
  }): FastifyPluginAsync =>
  async (app) => {
    await app.register(healthViewRoutes({ labs: deps.labs, clinical: deps.clinical, preferences: deps.preferences, dashboard: deps.dashboard }));
    await app.register(manualRoutes({ manual: deps.manual }));
    await app.register(summaryRoutes({ summary: deps.summary, perMinute: 30 }));
  };
