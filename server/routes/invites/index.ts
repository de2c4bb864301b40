import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { InvitesService } from '../../services/invites.service.js';
import { CreatedInvite, CreateInviteBody, IdParams, InviteAccess, InviteList } from '../../../contract/index.js';

/**
 * Invite codes for SIGNUP=invite, managed by admin accounts (403 `not_admin` for others, who
 * can ask `/api/invites/access` instead of drawing a 403).
 */
export const invitesRoutes =
  (deps: { invites: InvitesService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { invites } = deps;

    app.post('/api/invites', { schema: { body: CreateInviteBody, response: { 201: CreatedInvite } } }, async (req, reply) => {
      const r = await invites.createAsAdmin(requireSession(req), req.body?.days);
      return reply.code(201).send({ id: r.id, code: r.code, expiresAt: r.expiresAt.toISOString() });
    });

    app.get('/api/invites/access', { schema: { response: { 200: InviteAccess } } }, async (req) => ({ admin: await invites.isAdmin(requireSession(req)) }));

    app.get('/api/invites', { schema: { response: { 200: InviteList } } }, async (req) => ({ invites: await invites.list(requireSession(req)) }));

    app.delete('/api/invites/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await invites.revoke(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };
