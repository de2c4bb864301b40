import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openEventStream } from '../../http/event-stream.js';
import { requireSession } from '../../http/session.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatService, PreparedChat } from '../../services/chat.service.js';
import type { ChatStreamService } from '../../services/chat-stream.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ChatBody, ChatList, ChatSummary, ChatThread, IdParams, RegenerateBody, RenameChatBody } from '../../../contract/index.js';

export const chatRoutes =
  (deps: { chat: ChatService; stream: ChatStreamService; perMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { chat, stream } = deps;

    app.get('/health/ollama', async () => chat.health());

    /**
     * Server-sent events: `sources`, then `token`s, then `done` or `error`. Errors before the
     * stream (no runtime, pool saturated, bad input) are ordinary JSON errors with a status.
     */
    app.post('/api/chat', { schema: { body: ChatBody }, config: { rateLimit: { max: deps.perMinute, timeWindow: 60_000 } } }, async (req, reply) => {
      const session = requireSession(req);
      await writeSse(stream, req, reply, session, await chat.prepare(session, req.body));
    });

    /** A new answer to the chat's last question from a fresh sandbox lease; the old answer is kept. */
    app.post(
      '/api/chats/:id/regenerate',
      { schema: { params: IdParams, body: RegenerateBody }, config: { rateLimit: { max: deps.perMinute, timeWindow: 60_000 } } },
      async (req, reply) => {
        const session = requireSession(req);
        await writeSse(stream, req, reply, session, await chat.prepareRegenerate(session, req.params.id, req.body ?? {}));
      },
    );

    app.patch('/api/chats/:id', { schema: { params: IdParams, body: RenameChatBody, response: { 200: ChatSummary } } }, async (req) =>
      chat.rename(requireSession(req), req.params.id, req.body.title),
    );

    app.get('/api/chats/:id/export', { schema: { params: IdParams } }, async (req, reply) => {
      const r = await chat.exportMarkdown(requireSession(req), req.params.id);
      return reply.type('text/markdown; charset=utf-8').header('content-disposition', `attachment; filename="${r.filename}"`).send(r.markdown);
    });

    app.get('/api/chats', { schema: { response: { 200: ChatList } } }, async (req) => ({ chats: await chat.list(requireSession(req)) }));

    app.get('/api/chats/:id', { schema: { params: IdParams, response: { 200: ChatThread } } }, async (req) => chat.get(requireSession(req), req.params.id));

    app.delete('/api/chats/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await chat.delete(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };

/**
 * Server-sent events: `sources` (with `context`, what the model is given), then `token`s, then
 * `done` or `error`. Errors before the stream (no runtime, pool saturated, bad input) are
 * ordinary JSON errors with a status.
 */
async function writeSse(stream: ChatStreamService, req: FastifyRequest, reply: FastifyReply, session: SessionContext, prepared: PreparedChat): Promise<void> {
  const abort = new AbortController();
  const events = await stream.open(session, prepared, { signal: abort.signal, elapsedSeconds: () => reply.elapsedTime / 1000, log: req.log });

  const sse = openEventStream(reply);
  let finished = false;
  // The browser closing the connection (Stop) must stop generation in the sandbox.
  sse.res.on('close', () => {
    if (!finished) abort.abort(new Error('client went away'));
  });
  try {
    for await (const { event, data } of events) sse.send(event, data);
  } finally {
    finished = true;
    sse.end();
  }
}
