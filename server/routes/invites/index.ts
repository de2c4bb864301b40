import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { InvitesService } from '../../services/invites.service.js';
import { IdParams } from '../schemas.js';

const Invite = z.object({ id: z.string(), createdAt: z.string(), expiresAt: z.string(), usedAt: z.string().nullable() });

/** Invite codes for SIGNUP=invite, managed by admin accounts (403 `not_admin` for others). */
export const invitesRoutes =
  (deps: { invites: InvitesService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { invites } = deps;

    app.post(
      '/api/invites',
      {
        schema: {
          body: z.object({ days: z.number().int().min(1).max(90).optional() }).optional(),
          response: { 201: z.object({ id: z.string(), code: z.string(), expiresAt: z.string() }) },
        },
      },
      async (req, reply) => {
        const r = await invites.createAsAdmin(requireSession(req), req.body?.days);
        return reply.code(201).send({ id: r.id, code: r.code, expiresAt: r.expiresAt.toISOString() });
      },
    );

    app.get('/api/invites', { schema: { response: { 200: z.object({ invites: z.array(Invite) }) } } }, async (req) => ({
      invites: await invites.list(requireSession(req)),
    }));

    app.delete('/api/invites/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await invites.revoke(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };
