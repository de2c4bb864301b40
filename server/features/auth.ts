import { startPeriodic } from '../jobs/periodic.js';
import { activityRoutes } from '../routes/activity/index.js';
import { authRoutes } from '../routes/auth/index.js';
import { invitesRoutes } from '../routes/invites/index.js';
import { tokensRoutes } from '../routes/tokens/index.js';
import type { Feature } from './feature.js';

const SESSION_PURGE_EVERY_MS = 60 * 60_000;

const isLoopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

/** Accounts: sign-up and sign-in, the activity log, invites and API tokens. */
export const auth: Feature = async (app, c) => {
  const { config } = c;
  // Expired session rows still hold the vault key wrapped under the old cookie secret: delete
  // them at start-up and every hour rather than leaving them until the next login.
  const sessionPurge = await startPeriodic(
    async () => {
      const n = await c.sessions.deleteExpired();
      if (n > 0) app.log.info({ purged: n }, 'expired sessions deleted');
    },
    SESSION_PURGE_EVERY_MS,
    (err) => app.log.warn({ err: { name: (err as Error).name } }, 'expired session purge failed'),
  );
  await app.register(authRoutes({ auth: c.auth, config }));
  await app.register(activityRoutes({ activity: c.activity }));
  await app.register(invitesRoutes({ invites: c.invites }));
  await app.register(tokensRoutes({ tokens: c.apiTokens }));
  if (config.SIGNUP === 'open' && !isLoopback(config.publicUrl)) {
    app.log.warn('SIGNUP=open on a public address: anyone who reaches this server can create an account (set SIGNUP=invite)');
  }
  return () => sessionPurge.stop();
};
