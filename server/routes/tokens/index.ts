import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { ApiTokensService } from '../../services/api-tokens.service.js';
import { CreatedToken, CreateTokenBody, IdParams, TokenList } from '../../../contract/index.js';

/** Personal API tokens, managed from a browser session only (http/token-scope.ts refuses tokens here). */
export const tokensRoutes =
  (deps: { tokens: ApiTokensService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { tokens } = deps;

    app.post('/api/tokens', { schema: { body: CreateTokenBody, response: { 201: CreatedToken } } }, async (req, reply) => {
      const r = await tokens.create(requireSession(req), req.body, req.id);
      return reply.code(201).send({ id: r.id, token: r.token, expiresAt: r.expiresAt.toISOString() });
    });

    app.get('/api/tokens', { schema: { response: { 200: TokenList } } }, async (req) => ({ tokens: await tokens.list(requireSession(req)) }));

    app.delete('/api/tokens/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await tokens.revoke(requireSession(req), req.params.id, req.id);
      return reply.code(204).send();
    });
  };
