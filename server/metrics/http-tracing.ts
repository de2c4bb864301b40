import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { closeQueryScope, openQueryScope } from './query-spans.js';
import { tracer } from './tracing.js';

/**
 * A server span per request, named by method and route template (`GET /api/items/:id`): never
 * the raw URL, whose query string may hold search words. Registered first, so the session lookup
 * and every query the handler makes are counted in it (one child span per query family, written
 * when it ends). The span ends when the response finishes or its socket closes, which also covers
 * hijacked replies (the chat's event stream).
 */
export function traceRequests(app: FastifyInstance): void {
  const t = tracer();
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const span = t.startSpan(`${req.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'http.route': route, 'cv.request_id': req.id },
    });
    // Not sampled (OTEL_TRACES_SAMPLER): nothing to record, but the context still carries the
    // span, so what the request does is not sampled either.
    if (span.isRecording()) {
      openQueryScope(span);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        const status = reply.raw.statusCode;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500 || !reply.raw.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
        closeQueryScope(t, span);
        span.end();
      };
      reply.raw.once('finish', end);
      reply.raw.once('close', end);
    }
    // Hooks and the handler run from done(): they, and what they await, inherit the span.
    context.with(trace.setSpan(context.active(), span), done);
  });
}
