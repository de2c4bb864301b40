import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireSession } from '../../http/session.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatService, PreparedChat } from '../../services/chat.service.js';
import type { ChatStreamService } from '../../services/chat-stream.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { IdParams } from '../schemas.js';

const Source = z.object({
  n: z.number(),
  itemId: z.string().nullable(),
  title: z.string(),
  kind: z.string(),
  occurredAt: z.string().nullable(),
  page: z.number().optional(),
  passage: z.string().optional(),
});

const Context = z.object({
  model: z.string(),
  numCtx: z.number(),
  promptTokens: z.number(),
  answerReserve: z.number(),
  sourcesFound: z.number(),
  sourcesUsed: z.number(),
  truncated: z.number().optional(),
  historyMessages: z.number(),
  retrieval: z.enum(['hybrid', 'keyword']).optional(),
});
const Alternative = z.object({
  text: z.string(),
  sources: z.array(Source),
  createdAt: z.string(),
  context: Context.optional(),
  stopped: z.boolean().optional(),
  cutOff: z.boolean().optional(),
});
const ChatSummary = z.object({ id: z.string(), title: z.string(), updatedAt: z.string() });
const RenameBody = z.object({ title: z.string().trim().min(1, 'must not be empty').max(200) });
const TimeZone = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_+\-/]+$/);
// A bare POST (no body at all) is the common case from scripts.
const RegenerateBody = z.object({ timeZone: TimeZone.optional() }).nullish();

const ChatBody = z.object({
  message: z.string().trim().min(1, 'must not be empty').max(4000),
  chatId: z.uuid().optional(),
  /** The browser's IANA zone, so "yesterday" means the user's yesterday. */
  timeZone: TimeZone.optional(),
  /** An Ollama model name (`llama3.1:8b`, `library/qwen2.5:7b-instruct-q4_K_M`); stored sealed with the chat. */
  model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be an Ollama model name')
    .optional(),
});

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

    app.patch('/api/chats/:id', { schema: { params: IdParams, body: RenameBody, response: { 200: ChatSummary } } }, async (req) =>
      chat.rename(requireSession(req), req.params.id, req.body.title),
    );

    app.get('/api/chats/:id/export', { schema: { params: IdParams } }, async (req, reply) => {
      const r = await chat.exportMarkdown(requireSession(req), req.params.id);
      return reply.type('text/markdown; charset=utf-8').header('content-disposition', `attachment; filename="${r.filename}"`).send(r.markdown);
    });

    app.get('/api/chats', { schema: { response: { 200: z.object({ chats: z.array(ChatSummary) }) } } }, async (req) => ({
      chats: await chat.list(requireSession(req)),
    }));

    app.get(
      '/api/chats/:id',
      {
        schema: {
          params: IdParams,
          response: {
            200: z.object({
              id: z.string(),
              title: z.string(),
              model: z.string(),
              messages: z.array(
                z.object({
                  id: z.string(),
                  role: z.enum(['user', 'assistant']),
                  text: z.string(),
                  sources: z.array(Source),
                  createdAt: z.string(),
                  stopped: z.boolean().optional(),
                  cutOff: z.boolean().optional(),
                  context: Context.optional(),
                  alternatives: z.array(Alternative).optional(),
                }),
              ),
            }),
          },
        },
      },
      async (req) => chat.get(requireSession(req), req.params.id),
    );

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

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  let finished = false;
  // The browser closing the connection (Stop) must stop generation in the sandbox.
  res.on('close', () => {
    if (!finished) abort.abort(new Error('client went away'));
  });
  try {
    for await (const { event, data } of events) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  } finally {
    finished = true;
    res.end();
  }
}
