import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openEventStream } from '../../http/event-stream.js';
import { requireSession } from '../../http/session.js';
import type { ModelsService } from '../../services/models.service.js';
import { ModelDefaults, ModelName, ModelsResponse, PullModelBody, SetDefaultsBody } from '../../../contract/index.js';
import { z } from 'zod';

/**
 * Settings -> Models. Listing is open to every signed-in user (the chat's model picker); pull,
 * delete and the defaults are for admin accounts (403 `forbidden`), never for API tokens
 * (http/token-scope.ts).
 */
export const modelsRoutes =
  (deps: { models: ModelsService }): FastifyPluginAsyncZod =>
  async (app) => {
    const { models } = deps;

    app.get('/api/models', { schema: { response: { 200: ModelsResponse } } }, async (req) => models.list(requireSession(req)));

    /** Server-sent events: `progress` `{ status, completed, total }` ..., then `done` `{ name }` or `error` `{ code, message }`. */
    app.post('/api/models/pull', { schema: { body: PullModelBody } }, async (req, reply) => {
      const abort = new AbortController();
      const events = await models.startPull(requireSession(req), req.body.name, abort.signal);
      const { res, send, end } = openEventStream(reply);
      // Closing the page stops the download; the models container is removed either way.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort(new Error('client went away'));
      });
      try {
        for await (const p of events) send('progress', p);
        send('done', { name: req.body.name });
      } catch (err) {
        if (!abort.signal.aborted) {
          req.log.warn({ err: { message: (err as Error).message } }, 'model pull failed');
          send('error', { code: 'pull_failed', message: `The pull failed: ${(err as Error).message.slice(0, 300)}` });
        }
      } finally {
        end();
      }
    });

    app.delete('/api/models/:name', { schema: { params: z.object({ name: ModelName }) } }, async (req, reply) => {
      await models.delete(requireSession(req), req.params.name);
      return reply.code(204).send();
    });

    app.put('/api/models/defaults', { schema: { body: SetDefaultsBody, response: { 200: ModelDefaults } } }, async (req) =>
      models.setDefaults(requireSession(req), req.body),
    );
  };
