import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** A server-sent event stream taken over from Fastify: `send` writes one event, `end` closes it. */
export interface EventStream {
  readonly res: ServerResponse;
  send(event: string, data: unknown): void;
  end(): void;
}

/**
 * Takes the reply over as `text/event-stream` (keeping the headers hooks already set, such as
 * the security headers and the request id). Proxies must not buffer it, and nothing caches it.
 */
export function openEventStream(reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  return { res, send: (event, data) => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`), end: () => res.end() };
}
