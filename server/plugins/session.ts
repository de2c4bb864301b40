import { AppError } from '../errors.js';
import type { Feature } from '../features/feature.js';
import { lazyChild } from '../http/lazy-logger.js';
import { checkOrigin, isApiRequest, sessionCookieName } from '../http/session.js';
import { bearerToken, enforceTokenScope } from '../http/token-scope.js';

/**
 * Who is asking: every API request gets `req.session` from its bearer token (a script) or its
 * session cookie after the Origin check (a browser), and is never cached.
 */
export const session: Feature = async (app, c) => {
  const { config, apiTokens, auth } = c;
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (!isApiRequest(req)) return;
    reply.header('cache-control', 'no-store');
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      // A script, not a browser: cookies are ignored (a page cannot ride on them) and the Origin
      // check has nothing to protect, since the credential is only ever sent on purpose.
      const session = await apiTokens.authenticate(bearer, req.headers['user-agent']);
      if (!session) {
        throw new AppError(401, 'invalid_token', 'The API token is invalid, expired or revoked.', { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      enforceTokenScope(req, session);
      req.session = session;
    } else {
      checkOrigin(req, config);
      req.session = await auth.authenticate(req.cookies[sessionCookieName(config)]);
    }
    if (req.session) req.log = lazyChild(req.log, { userId: req.session.userId });
  });
};
