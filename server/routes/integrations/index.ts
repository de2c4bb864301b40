import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../../config.js';
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../http/sealed-cookie.js';
import { requireSession } from '../../http/session.js';
import type { ConnectFlow } from '../../services/connectors/connector.js';
import type { IntegrationsService } from '../../services/integrations.service.js';
import { ConnectQuery, IntegrationsList, JobAccepted, ProviderParams } from '../../../contract/index.js';

/**
 * One cookie per connect attempt, named after a hash of its `state`: a second connect started
 * in another tab (or for another provider) before the first returns must not overwrite or clear
 * the first one's verifier. Lax and scoped to the callback path: it must come back on the
 * provider's redirect. Single-use (cleared by its callback) and short-lived (sealed expiry).
 */
const flowCookie = (provider: string, state: string) =>
  ({
    name: `cv_oauth_${provider}_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`,
    path: `/api/integrations/${provider}/callback`,
    sameSite: 'lax',
    ttlMs: 10 * 60_000,
  }) as const;

export const integrationsRoutes =
  (deps: { integrations: IntegrationsService; config: Config }): FastifyPluginAsyncZod =>
  async (app) => {
    const { integrations, config } = deps;

    app.get('/api/integrations', { schema: { response: { 200: IntegrationsList } } }, async (req) => {
      const s = requireSession(req);
      return { integrations: await integrations.list(s.userId), available: integrations.available() };
    });

    app.get('/api/integrations/:provider/connect', { schema: { params: ProviderParams, querystring: ConnectQuery } }, async (req, reply) => {
      const s = requireSession(req);
      const { url, flow } = await integrations.begin(s.userId, req.params.provider, req.query.endpoint);
      setSealedCookie(reply, config, flowCookie(req.params.provider, flow.state), flow);
      return reply.redirect(url, 302);
    });

    app.get('/api/integrations/:provider/callback', { schema: { params: ProviderParams } }, async (req, reply) => {
      const { state } = req.query as Record<string, unknown>;
      // Without a state there is no attempt to finish: complete() answers state_mismatch.
      const cookie = typeof state === 'string' && state ? flowCookie(req.params.provider, state) : null;
      const flow = cookie ? readSealedCookie<ConnectFlow>(req, config, cookie.name) : null;
      if (cookie) clearSealedCookie(reply, config, cookie);
      const to = await integrations.complete(req.params.provider, req.query as Record<string, unknown>, flow, req.log);
      return reply.redirect(to, 302);
    });

    app.post('/api/integrations/:provider/sync', { schema: { params: ProviderParams, response: { 202: JobAccepted } } }, async (req, reply) => {
      const s = requireSession(req);
      const jobId = await integrations.requestSync(s.userId, req.params.provider);
      return reply.code(202).send({ jobId });
    });

    app.delete('/api/integrations/:provider', { schema: { params: ProviderParams } }, async (req, reply) => {
      const s = requireSession(req);
      await integrations.disconnect(s.userId, req.params.provider, req.id);
      return reply.code(204).send();
    });
  };

declare module 'fastify' {
  interface FastifyInstance {
    /** The integrations service, exposed so tests can run the scheduler's tick and await syncs. */
    integrations?: IntegrationsService;
  }
}
