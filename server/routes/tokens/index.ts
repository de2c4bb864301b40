import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import { MAX_TOKEN_DAYS, type ApiTokensService } from '../../services/api-tokens.service.js';
import { TOKEN_SCOPES } from '../../services/keyring.js';
import { IdParams } from '../schemas.js';

const CreateToken = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'pick at least one scope').max(3),
  expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS).optional(),
});

const Token = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string(),
});

/** Personal API tokens, managed from a browser session only (http/token-scope.ts refuses tokens here). */
export const tokensRoutes =
  (deps: { tokens: ApiTokensService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { tokens } = deps;

    app.post(
      '/api/tokens',
      { schema: { body: CreateToken, response: { 201: z.object({ id: z.string(), token: z.string(), expiresAt: z.string() }) } } },
      async (req, reply) => {
        const r = await tokens.create(requireSession(req), req.body, req.id);
        return reply.code(201).send({ id: r.id, token: r.token, expiresAt: r.expiresAt.toISOString() });
      },
    );

    app.get('/api/tokens', { schema: { response: { 200: z.object({ tokens: z.array(Token) }) } } }, async (req) => ({
      tokens: await tokens.list(requireSession(req)),
    }));

    app.delete('/api/tokens/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await tokens.revoke(requireSession(req), req.params.id, req.id);
      return reply.code(204).send();
    });
  };
