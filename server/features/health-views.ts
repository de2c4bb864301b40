import { healthRoutes as healthViewsRoutes } from '../routes/records/health-index.js';
import type { Feature } from './feature.js';

/** Health views (dashboard, labs, clinical), hand entries, preferences and the patient summary. */
export const healthViews: Feature = async (app, c) => {
  await app.register(healthViewsRoutes(c.health));
};
