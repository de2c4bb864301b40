import { syncHook } from '../http/sync-hook.js';
import { googleAuthRoutes } from '../routes/auth/google.js';
import { integrationsRoutes } from '../routes/integrations/index.js';
import type { Feature } from './feature.js';

/** Google sign-in, Epic/SMART and Google Health connections, scheduled syncs and the inbox. */
export const integrations: Feature = async (app, c) => {
  const { config, inbox } = c;
  // A live session empties its inbox (cheap check, throttled per user inside the service).
  app.addHook(
    'onRequest',
    syncHook((req) => (req.session ? inbox.maybeDrain(req.session, req.log) : undefined)),
  );
  await app.register(googleAuthRoutes({ google: c.google, inbox, config }));
  await app.register(integrationsRoutes({ integrations: c.integrations, config }));
  app.decorate('integrations', c.integrations);
  c.integrations.start();
  return () => c.integrations.stop();
};
