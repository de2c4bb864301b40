import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../db/index.js';
import type { AuditRepository } from '../../repositories/audit.repository.js';
import { PreferencesRepository } from '../../repositories/preferences.repository.js';
import { ClinicalService } from '../../services/clinical.service.js';
import type { ItemsService } from '../../services/items.service.js';
import { LabsService } from '../../services/labs.service.js';
import { PreferencesService } from '../../services/preferences.service.js';
import type { SeriesService } from '../../services/series.service.js';
import { SummaryService } from '../../summary/summary.service.js';
import { DashboardService } from '../../services/dashboard.service.js';
import { ManualService } from '../../services/manual.service.js';
import { healthViewRoutes } from './health.js';
import { manualRoutes } from './manual.js';
import { summaryRoutes } from './summary.js';

/**
 * Wires the health views (issue 17): services built from the app's shared ones, and their routes.
 * Kept out of app.ts so the composition root gains one line.
 */
export const healthRoutes = (deps: { db: Database; items: ItemsService; series: SeriesService; audit: AuditRepository }): FastifyPluginAsync =>
  async (app) => {
    const preferences = new PreferencesService(new PreferencesRepository(deps.db));
    const labs = new LabsService(deps.items);
    const clinical = new ClinicalService(deps.items);
    await app.register(healthViewRoutes({ labs, clinical, preferences, dashboard: new DashboardService(deps.series, preferences, deps.items) }));
    await app.register(manualRoutes({ manual: new ManualService(deps.items, deps.series) }));
    const summary = new SummaryService({ items: deps.items, clinical, labs, series: deps.series, preferences }, deps.audit);
    await app.register(summaryRoutes({ summary, perMinute: 30 }));
  };
