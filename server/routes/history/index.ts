import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireSession } from '../../http/session.js';
import type { HistoryService } from '../../services/history.service.js';
import type { TrashService } from '../../services/trash.service.js';
import { IdParams, Item, RestoreVersionBody, VersionDiff, VersionList, VersionParams } from '../../../contract/index.js';

/** Version history of an item, and permanent delete from the trash. */
export const historyRoutes =
  (deps: { history: HistoryService; trash: TrashService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { history, trash } = deps;

    app.get('/api/items/:id/versions', { schema: { params: IdParams, response: { 200: VersionList } } }, async (req) => ({
      versions: await history.list(requireSession(req), req.params.id),
    }));

    app.get('/api/items/:id/versions/:version', { schema: { params: VersionParams, response: { 200: Item } } }, async (req) =>
      history.get(requireSession(req), req.params.id, req.params.version),
    );

    app.get('/api/items/:id/versions/:version/diff', { schema: { params: VersionParams, response: { 200: VersionDiff } } }, async (req) =>
      history.diff(requireSession(req), req.params.id, req.params.version),
    );

    app.post(
      '/api/items/:id/versions/:version/restore',
      { schema: { params: VersionParams, body: RestoreVersionBody, response: { 200: Item } } },
      async (req) => history.restore(requireSession(req), req.params.id, req.params.version, req.body?.baseVersion),
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
