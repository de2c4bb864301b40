import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { streamChat } from '../../../sandbox/ollama.js';
import { requireSession } from '../../http/session.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatService, PreparedChat } from '../../services/chat.service.js';
import type { SessionContext } from '../../services/keyring.js';
import { ChatBody, ChatList, ChatSummary, ChatThread, IdParams, RegenerateBody, RenameChatBody } from '../../../contract/index.js';
import { markError, tracer } from '../../metrics/tracing.js';

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
