import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
 * the first one's verifier. Lax: it must come back on the provider's redirect. Scoped to the
 * provider's paths, so connect sees the attempts still open (see MAX_OPEN_FLOWS). Single-use
 * (cleared by its callback) and short-lived (sealed expiry and Max-Age).
 */
const FLOW_PREFIX = (provider: string) => `cv_oauth_${provider}_`;
const flowCookieNamed = (provider: string, name: string) => ({ name, path: `/api/integrations/${provider}/`, sameSite: 'lax', ttlMs: 10 * 60_000 }) as const;
const flowCookie = (provider: string, state: string) =>
  flowCookieNamed(provider, `${FLOW_PREFIX(provider)}${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`);

/**
 * Connect attempts of one provider kept open at once: enough for a few tabs, few enough that
 * a page sending the browser to Connect again and again cannot grow its Cookie header towards
 * Node's 16 KiB header limit (each sealed flow is about 500 bytes).
 */
const MAX_OPEN_FLOWS = 4;

/**
 * Clears this provider's flow cookies beyond the newest MAX_OPEN_FLOWS - 1 (the one about to
 * be set makes MAX_OPEN_FLOWS), and any that no longer open: expired, tampered with, or not ours.
 */
function pruneFlowCookies(req: FastifyRequest, reply: FastifyReply, config: Config, provider: string): void {
  const open: Array<{ name: string; exp: number }> = [];
  for (const name of Object.keys(req.cookies)) {
    if (!name.startsWith(FLOW_PREFIX(provider)) || name.length !== FLOW_PREFIX(provider).length + 16) continue;
    const flow = readSealedCookie<ConnectFlow & { exp: number }>(req, config, name);
    if (flow) open.push({ name, exp: flow.exp });
    else clearSealedCookie(reply, config, flowCookieNamed(provider, name));
  }
  open.sort((a, b) => b.exp - a.exp);
  for (const { name } of open.slice(MAX_OPEN_FLOWS - 1)) clearSealedCookie(reply, config, flowCookieNamed(provider, name));
}

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
      pruneFlowCookies(req, reply, config, req.params.provider);
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
