import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Feature } from '../features/feature.js';
import { lazyChild } from '../http/lazy-logger.js';
import type { SessionContext } from '../services/keyring.js';
import { syncHook } from '../http/sync-hook.js';
import { checkOrigin, isApiRequest, sessionCookieName } from '../http/session.js';
import { bearerToken, enforceTokenScope } from '../http/token-scope.js';

/**
 * Who is asking: every API request gets `req.session` from its bearer token (a script) or its
 * session cookie after the Origin check (a browser), and is never cached.
 */
export const session: Feature = async (app, c) => {
  const { config, apiTokens, auth } = c;
  app.decorateRequest('session', null);
  const signedIn = (req: FastifyRequest, session: SessionContext | null) => {
    req.session = session;
    if (session) req.log = lazyChild(req.log, { userId: session.userId });
  };
  app.addHook(
    'onRequest',
    syncHook((req, reply) => {
      reply.header('x-request-id', req.id);
      if (!isApiRequest(req)) return;
      reply.header('cache-control', 'no-store');
      const bearer = bearerToken(req);
      if (bearer !== undefined) {
        // A script, not a browser: cookies are ignored (a page cannot ride on them) and the Origin
        // check has nothing to protect, since the credential is only ever sent on purpose.
        return apiTokens.authenticate(bearer, req.headers['user-agent']).then((session) => {
          if (!session) {
            throw new AppError(401, 'invalid_token', 'The API token is invalid, expired or revoked.', { 'www-authenticate': 'Bearer error="invalid_token"' });
          }
          enforceTokenScope(req, session);
          signedIn(req, session);
        });
      }
      checkOrigin(req, config);
      const cookie = req.cookies[sessionCookieName(config)];
      const cached = auth.cachedSession(cookie);
      if (cached) return signedIn(req, cached);
      return auth.authenticate(cookie).then((session) => signedIn(req, session));
    }),
  );
};
