import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { HistoryService } from '../../services/history.service.js';
import type { TrashService } from '../../services/trash.service.js';
import { IdParams, ItemSchema } from '../schemas.js';

const VersionParams = IdParams.extend({ version: z.coerce.number().int().min(1).max(2_147_483_647) });
const Versions = z.object({
  versions: z.array(
    z.object({ version: z.number(), title: z.string(), updatedAt: z.string(), current: z.boolean(), savedBy: z.enum(['this', 'other']).nullable() }),
  ),
});
const Diff = z.object({
  from: z.number(),
  to: z.number(),
  title: z.object({ before: z.string(), after: z.string() }),
  tags: z.object({ removed: z.array(z.string()), added: z.array(z.string()) }),
  text: z.array(z.object({ op: z.enum(['same', 'removed', 'added']), lines: z.array(z.string()) })),
});
const RestoreBody = z.object({ baseVersion: z.number().int().min(1).optional() }).optional();

/** Version history of an item, and permanent delete from the trash. */
export const historyRoutes =
  (deps: { history: HistoryService; trash: TrashService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { history, trash } = deps;

    app.get('/api/items/:id/versions', { schema: { params: IdParams, response: { 200: Versions } } }, async (req) => ({
      versions: await history.list(requireSession(req), req.params.id),
    }));

    app.get('/api/items/:id/versions/:version', { schema: { params: VersionParams, response: { 200: ItemSchema } } }, async (req) =>
      history.get(requireSession(req), req.params.id, req.params.version),
    );

    app.get('/api/items/:id/versions/:version/diff', { schema: { params: VersionParams, response: { 200: Diff } } }, async (req) =>
      history.diff(requireSession(req), req.params.id, req.params.version),
    );

    app.post('/api/items/:id/versions/:version/restore', { schema: { params: VersionParams, body: RestoreBody, response: { 200: ItemSchema } } }, async (req) =>
      history.restore(requireSession(req), req.params.id, req.params.version, req.body?.baseVersion),
    );

    app.delete('/api/trash/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await trash.deleteForever(requireSession(req), req.params.id);
      return reply.code(204).send();
    });

    app.delete('/api/trash', async (req, reply) => {
      await trash.empty(requireSession(req));
      return reply.code(204).send();
    });
  };

declare module 'fastify' {
  interface FastifyInstance {
    /** The trash service, exposed so tests can run the retention purge with a clock they control. */
    trash?: TrashService;
  }
}
