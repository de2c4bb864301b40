import { healthRoutes } from '../routes/health/index.js';
import { hasWebApp } from '../plugins/web-app.js';
import type { Feature } from './feature.js';

/** `GET /health`: liveness, and whether the database and the object storage answer. */
export const healthCheck: Feature = async (app, c) => {
  await app.register(healthRoutes({ db: c.db, hasWeb: hasWebApp(), storage: c.config.storage }));
};
