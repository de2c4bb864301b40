import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { streamChat } from '../../../sandbox/ollama.js';
import { requireSession } from '../../http/session.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatService, PreparedChat } from '../../services/chat.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { IdParams } from '../schemas.js';
import { markError, tracer } from '../../metrics/tracing.js';

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
  (deps: { chat: ChatService; perMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { chat } = deps;

    app.get('/health/ollama', async () => chat.health());

    /**
     * Server-sent events: `sources`, then `token`s, then `done` or `error`. Errors before the
     * stream (no runtime, pool saturated, bad input) are ordinary JSON errors with a status.
     */
    app.post('/api/chat', { schema: { body: ChatBody }, config: { rateLimit: { max: deps.perMinute, timeWindow: 60_000 } } }, async (req, reply) => {
      const session = requireSession(req);
      await streamAnswer(chat, req, reply, session, await chat.prepare(session, req.body));
    });

    /** A new answer to the chat's last question from a fresh sandbox lease; the old answer is kept. */
    app.post(
      '/api/chats/:id/regenerate',
      { schema: { params: IdParams, body: RegenerateBody }, config: { rateLimit: { max: deps.perMinute, timeWindow: 60_000 } } },
      async (req, reply) => {
        const session = requireSession(req);
        await streamAnswer(chat, req, reply, session, await chat.prepareRegenerate(session, req.params.id, req.body ?? {}));
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
async function streamAnswer(chat: ChatService, req: FastifyRequest, reply: FastifyReply, session: SessionContext, prepared: PreparedChat): Promise<void> {
  const abort = new AbortController();
  const lease = await chat.acquire(session, abort.signal);

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let finished = false;
  let cancelled = false;
  // The browser closing the connection (Stop) must stop generation in the sandbox.
  res.on('close', () => {
    if (!finished) {
      cancelled = true;
      abort.abort(new Error('client went away'));
    }
  });

  send('sources', { sources: prepared.sources, context: prepared.context });
  let answer = '';
  let cutOff = false;
  // Metrics and the model call's span: counts and timings only, never the text.
  const metrics = chat.opts.metrics;
  const span = tracer().startSpan('model.chat', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': prepared.model } });
  let firstTokenAt: number | undefined;
  let lastTokenAt = 0;
  let chunks = 0;
  let evalCount: number | undefined;
  let observed = false;
  const modelEnded = (outcome: 'done' | 'cut_off' | 'stopped' | 'error', err?: unknown) => {
    if (observed) return;
    observed = true;
    metrics?.answered(
      prepared.model,
      outcome,
      firstTokenAt === undefined ? undefined : { tokens: evalCount ?? chunks, seconds: (lastTokenAt - firstTokenAt) / 1000 },
    );
    if (err !== undefined) markError(span, err);
    span.end();
  };
  try {
    for await (const text of streamChat({
      baseUrl: lease.baseUrl,
      model: prepared.model,
      messages: prepared.messages,
      numCtx: chat.opts.numCtx,
      signal: abort.signal,
      // `length`: the answer reached num_predict (the reserve) and was cut there.
      onDone: (d) => {
        cutOff = d.doneReason === 'length';
        evalCount = d.evalCount;
        if (d.promptEvalCount !== undefined) span.setAttribute('gen_ai.usage.input_tokens', d.promptEvalCount);
        if (d.evalCount !== undefined) span.setAttribute('gen_ai.usage.output_tokens', d.evalCount);
        if (d.doneReason) span.setAttribute('gen_ai.response.finish_reasons', [d.doneReason]);
      },
    })) {
      lastTokenAt = performance.now();
      if (firstTokenAt === undefined) {
        firstTokenAt = lastTokenAt;
        metrics?.firstToken(prepared.model, reply.elapsedTime / 1000);
      }
      chunks++;
      answer += text;
      send('token', { text });
    }
    finished = true;
    lease.release();
    modelEnded(cutOff ? 'cut_off' : 'done');
    const saved = await chat.save(session, prepared, answer, cutOff ? { cutOff } : {});
    send('done', cutOff ? { ...saved, cutOff } : saved);
  } catch (err) {
    finished = true;
    lease.release(cancelled ? { cancelled: true } : { error: true });
    modelEnded(cancelled ? 'stopped' : 'error', cancelled ? undefined : err);
    if (cancelled) {
      await chat.save(session, prepared, answer, { stopped: true }).catch((e) => req.log.error({ err: e }, 'saving a stopped chat failed'));
    } else {
      req.log.error({ err }, 'chat generation failed');
      send('error', { code: 'ai_error', message: 'The AI stopped with an error. Try again.' });
    }
  } finally {
    res.end();
  }
}
