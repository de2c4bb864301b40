import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { openEventStream } from '../../http/event-stream.js';
import { requireSession } from '../../http/session.js';
import { perUser } from '../../http/rate-limit.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { ChatService, PreparedChat } from '../../services/chat.service.js';
import type { ChatEvent, ChatStreamService } from '../../services/chat-stream.service.js';
import type { ModelsService } from '../../services/models.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { TurnLease } from '../../services/turn-lease.js';
import { ChatBody, ChatList, ChatSummary, ChatThread, IdParams, ListChatsQuery, RegenerateBody, RenameChatBody } from '../../../contract/index.js';

export const chatRoutes =
  (deps: { chat: ChatService; stream: ChatStreamService; models: ModelsService; perMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { chat } = deps;
    // "Chat requests per user per minute", counting only requests with a session and a valid body.
    const perUserChat = perUser(deps.perMinute, 60_000, { afterValidation: true });

    app.get('/health/ollama', async () => {
      const health = await chat.health();
      const missing = health.status === 'ok' ? await deps.models.missingChatModel() : undefined;
      return missing ? { ...health, status: 'offline' as const, ...missing } : health;
    });

    /**
     * Server-sent events: `sources`, then `token`s, then `done` or `error`. Errors before the
     * stream (no runtime, pool saturated, bad input) are ordinary JSON errors with a status.
     */
    app.post('/api/chat', { schema: { body: ChatBody }, config: perUserChat }, async (req, reply) => {
      const session = requireSession(req);
      await answer(deps, req, reply, session, req.body.chatId, (lease) => chat.prepare(session, req.body, new Date(), lease));
    });

    /** A new answer to the chat's last question from a fresh sandbox lease; the old answer is kept. */
    app.post('/api/chats/:id/regenerate', { schema: { params: IdParams, body: RegenerateBody }, config: perUserChat }, async (req, reply) => {
      const session = requireSession(req);
      await answer(deps, req, reply, session, req.params.id, (lease) => chat.prepareRegenerate(session, req.params.id, req.body ?? {}, new Date(), lease));
    });

    app.patch('/api/chats/:id', { schema: { params: IdParams, body: RenameChatBody, response: { 200: ChatSummary } } }, async (req) =>
      chat.rename(requireSession(req), req.params.id, req.body.title),
    );

    app.get('/api/chats/:id/export', { schema: { params: IdParams } }, async (req, reply) => {
      const r = await chat.exportMarkdown(requireSession(req), req.params.id);
      return reply.type('text/markdown; charset=utf-8').header('content-disposition', r.disposition).send(r.markdown);
    });

    app.get('/api/chats', { schema: { querystring: ListChatsQuery, response: { 200: ChatList } } }, async (req) => chat.list(requireSession(req), req.query));

    app.get('/api/chats/:id', { schema: { params: IdParams, response: { 200: ChatThread } } }, async (req) => chat.get(requireSession(req), req.params.id));

    app.delete('/api/chats/:id', { schema: { params: IdParams } }, async (req, reply) => {
      await chat.delete(requireSession(req), req.params.id);
      return reply.code(204).send();
    });
  };

/**
 * Server-sent events: `sources` (with `context`, what the model is given), then `token`s, then
 * `done` or `error`. Errors before the stream (no runtime, pool saturated, bad input) are
 * ordinary JSON errors with a status. The turn takes one sandbox lease, for embedding the
 * question (when the vault has vectors) and the answer both. A follow-up or regeneration holds
 * its chat for the whole turn (409 `chat_busy` to a second one), so a thread's questions and
 * answers stay paired.
 */
async function answer(
  deps: { chat: ChatService; stream: ChatStreamService; models: ModelsService },
  req: FastifyRequest,
  reply: FastifyReply,
  session: SessionContext,
  chatId: string | undefined,
  prepare: (lease: TurnLease) => Promise<PreparedChat>,
): Promise<void> {
  const endTurn = chatId ? await deps.chat.beginTurn(session, chatId) : async () => {};
  // Revoking the session or token (sign-out, "end all other sessions", a deleted token) aborts it too.
  const turn = deps.stream.begin(session);
  try {
    const { signal } = turn;
    let finished = false;
    // The browser closing the connection (Stop) must stop generation in the sandbox, or the wait for one.
    reply.raw.on('close', () => {
      if (!finished) turn.stop(new Error('client went away'));
    });
    const lease = new TurnLease(() => deps.chat.acquire(session, signal));
    let events: AsyncGenerator<ChatEvent, void>;
    let prepared: PreparedChat | undefined;
    try {
      prepared = await prepare(lease);
      // Revoked while the question was being prepared: nothing may start on these keys.
      signal.throwIfAborted();
      events = await deps.stream.open(session, prepared, { signal, elapsedSeconds: () => reply.elapsedTime / 1000, log: req.log, lease });
    } catch (err) {
      lease.release();
      if (signal.reason instanceof AppError) throw signal.reason;
      // Nobody is left to answer: not a server error (499, as proxies log a client that left).
      if (signal.aborted) throw new AppError(499, 'client_closed_request', 'The client went away before the answer started.');
      // Only a model the request named is the user's 422; without the default chat model no chat
      // can be answered, which the operator fixes (an OLLAMA_URL runtime preloads nothing, so
      // this is where its absence shows).
      if (prepared && !prepared.namedModel && err instanceof AppError && err.code === 'model_not_found')
        throw (await deps.models.noModelFor(prepared.model)) ?? err;
      throw err;
    }

    const sse = openEventStream(reply);
    try {
      for await (const { event, data } of events) {
        // `done` and `error` come after everything of the turn was saved: the chat is free before
        // the client hears the turn is over, so its next question is never a 409.
        if (event === 'done' || event === 'error') await endTurn();
        sse.send(event, data);
      }
    } finally {
      finished = true;
      sse.end();
    }
  } finally {
    turn.end();
    await endTurn();
  }
}
