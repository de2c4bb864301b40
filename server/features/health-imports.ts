import { syncHook } from '../http/sync-hook.js';
import { importsRoutes } from '../routes/imports/index.js';
import { recordsRoutes } from '../routes/records/index.js';
import { withUploads } from '../plugins/uploads.js';
import type { Feature } from './feature.js';

/** Health imports (FHIR, Apple Health, Fitbit) as background jobs, the jobs API and the series they write. */
export const healthImports: Feature = async (app, c) => {
  // Interrupted jobs resume once a request brings their owner's keys (they are never stored);
  // a vault written before 0011 starts its upgrade the same way.
  app.addHook(
    'onRequest',
    syncHook((req) => {
      if (!req.session) return;
      const session = req.session;
      const resuming = c.jobRunner.resumeFor(session);
      return resuming ? resuming.then(() => c.vaultUpgrade.ensure(session)) : c.vaultUpgrade.ensure(session);
    }),
  );
  await app.register(withUploads(c.config, importsRoutes({ imports: c.imports, maxImportBytes: c.config.MAX_IMPORT_MB * 1024 * 1024 })));
  await app.register(recordsRoutes({ series: c.series }));
  return () => c.jobRunner.close();
};
