import { exportRoutes } from '../routes/export/index.js';
import { withUploads } from '../plugins/uploads.js';
import type { Feature } from './feature.js';

/** The whole vault as an age-encrypted export, its re-import, and account deletion. */
export const vaultExport: Feature = async (app, c) => {
  await app.register(withUploads(c.config, exportRoutes({ exporter: c.exporter, importJobs: c.importJobs, account: c.account, config: c.config })));
};
