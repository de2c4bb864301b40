import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { streamChat } from '../../../sandbox/ollama.js';
import { requireSession } from '../../http/session.js';
import type { ChatService } from '../../services/chat.service.js';
import { IdParams } from '../schemas.js';

const Source = z.object({ n: z.number(), itemId: z.string().nullable(), title: z.string(), kind: z.string(), occurredAt: z.string().nullable() });

const ChatBody = z.object({
  message: z.string().trim().min(1, 'must not be empty').max(4000),
  chatId: z.uuid().optional(),
  /** The browser's IANA zone, so "yesterday" means the user's yesterday. */
  timeZone: z.string().max(64).regex(/^[A-Za-z0-9_+\-/]+$/).optional(),
});

export const chatRoutes = (deps: { chat: ChatService; perMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { chat } = deps;

    app.get('/health/ollama', async () => chat.health());

    /**
     * Server-sent events: `sources`, then `token`s, then `done` or `error`. Errors before the
     * stream (no runtime, pool saturated, bad input) are ordinary JSON errors with a status.
     */
    app.post('/api/chat', { schema: { body: ChatBody }, config: { rateLimit: { max: deps.perMinute, timeWindow: 60_000 } } }, async (req, reply) => {
      const session = requireSession(req);
      const prepared = await chat.prepare(session, req.body);
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

      send('sources', { sources: prepared.sources });
      let answer = '';
      let cutOff = false;
      try {
        for await (const text of streamChat({
          baseUrl: lease.baseUrl,
          model: chat.opts.model,
          messages: prepared.messages,
          numCtx: chat.opts.numCtx,
          signal: abort.signal,
          // `length`: the answer reached num_predict (the reserve) and was cut there.
          onDone: (d) => (cutOff = d.doneReason === 'length'),
        })) {
          answer += text;
          send('token', { text });
        }
        finished = true;
        lease.release();
        const saved = await chat.save(session, prepared, answer, cutOff ? { cutOff } : {});
        send('done', cutOff ? { ...saved, cutOff } : saved);
      } catch (err) {
        finished = true;
        lease.release(cancelled ? { cancelled: true } : { error: true });
        if (cancelled) {
          await chat.save(session, prepared, answer, { stopped: true }).catch((e) => req.log.error({ err: e }, 'saving a stopped chat failed'));
        } else {
          req.log.error({ err }, 'chat generation failed');
          send('error', { code: 'ai_error', message: 'The AI stopped with an error. Try again.' });
        }
      } finally {
        res.end();
      }
    });

    app.get(
      '/api/chats',
      { schema: { response: { 200: z.object({ chats: z.array(z.object({ id: z.string(), title: z.string(), updatedAt: z.string() })) }) } } },
      async (req) => ({ chats: await chat.list(requireSession(req)) }),
    );

    app.get(
      '/api/chats/:id',
      {
        schema: {
          params: IdParams,
          response: {
            200: z.object({
              id: z.string(),
              title: z.string(),
              messages: z.array(z.object({ role: z.enum(['user', 'assistant']), text: z.string(), sources: z.array(Source), createdAt: z.string(), stopped: z.boolean().optional(), cutOff: z.boolean().optional() })),
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
