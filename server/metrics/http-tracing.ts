import type { ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { closeQueryScope, openQueryScope } from './query-spans.js';
import { tracer } from './tracing.js';

const SPAN = Symbol('cv.requestSpan');
type Traced = ServerResponse & { [SPAN]?: Span };
let requestTracer: Tracer;

/**
 * Ends the request's span when the response finishes or its socket closes. One function for
 * every request (no closure per request): the span rides on the response.
 */
function endRequestSpan(this: Traced): void {
  const span = this[SPAN];
  if (!span) return;
  this[SPAN] = undefined;
  const status = this.statusCode;
  span.setAttribute('http.response.status_code', status);
  if (status >= 500 || !this.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
  closeQueryScope(requestTracer, span);
  span.end();
}

/**
 * A server span per request, named by method and route template (`GET /api/items/:id`): never
 * the raw URL, whose query string may hold search words. Registered first, so the session lookup
 * and every query the handler makes are counted in it (one child span per query family, written
 * when it ends). The span ends when the response finishes or its socket closes, which also covers
 * hijacked replies (the chat's event stream).
 */
export function traceRequests(app: FastifyInstance): void {
  requestTracer = tracer();
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    // A new trace from the root: no lookup of an active context, which a request never has here.
    const span = requestTracer.startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route, 'cv.request_id': req.id } },
      ROOT_CONTEXT,
    );
    // Not sampled (OTEL_TRACES_SAMPLER): nothing to record or end, but the context still carries
    // the span, so nothing the request does is sampled either.
    if (span.isRecording()) {
      openQueryScope(span);
      const raw = reply.raw as Traced;
      raw[SPAN] = span;
      raw.on('finish', endRequestSpan);
      raw.on('close', endRequestSpan);
    }
    // Hooks and the handler run from done(): they, and what they await, inherit the span.
    context.with(trace.setSpan(ROOT_CONTEXT, span), done);
  });
}
