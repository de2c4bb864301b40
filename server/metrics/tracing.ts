import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { errorType } from './error-type.js';
import { closeQueryScope, openQueryScope } from './query-spans.js';

/**
 * OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The tracer, context
 * manager and exporter are imported only when it is, so a server without tracing loads
 * nothing but the (tiny) API, whose tracer is a no-op. Span names are fixed strings and route
 * templates; attributes carry counts, kinds, model names, outcomes and random ids, never content,
 * titles, file names, query strings, emails, prompts, answers or tokens
 * (server/metrics/tracing.int.test.ts looks for canaries in every exported span).
 */
const TRACER = 'context-vault';

let enabled = false;
const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
/** The API's no-op tracer until tracing starts; then ours, looked up once (not per span). */
let current: Tracer = trace.getTracer(TRACER);

/** Whether a tracer provider is running (callers skip building attributes when it is not). */
export const tracingEnabled = (): boolean => enabled;

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts tracing (lite-tracer.ts, sampled as OTEL_TRACES_SAMPLER says); spans go to
 * `<endpoint>/v1/traces` (OTLP/HTTP JSON), written as they end (span-exporter.ts).
 */
export async function startTracing(
  endpoint: string,
  opts: { serviceVersion?: string; onDropped?: (spans: number, reason: 'export_failed' | 'queue_full') => void } = {},
): Promise<Tracing> {
  const [{ AsyncLocalStorageContextManager }, { LiteTracerProvider }, { samplerFromEnv }, { SpanExporter }] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('./lite-tracer.js'),
    import('./sampler.js'),
    import('./span-exporter.js'),
  ]);
  // Bounded: past the queue, spans are dropped, never buffered without limit. Few, large exports:
  // each one is an HTTP request and a JSON document of its own.
  const exporter = new SpanExporter({
    url: `${endpoint.replace(/\/+$/, '')}/v1/traces`,
    resource: { 'service.name': 'context-vault', ...(opts.serviceVersion ? { 'service.version': opts.serviceVersion } : {}) },
    batch: { scheduledDelayMillis: 5000, maxQueueSize: 16384, maxExportBatchSize: 4096 },
    ...(opts.onDropped ? { onDropped: opts.onDropped } : {}),
  });
  // One AsyncLocalStorage, entered once per request and per withSpan (never per callback), which
  // is what lets a query's family span find its request.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new LiteTracerProvider(samplerFromEnv(), exporter));
  current = trace.getTracer(TRACER);
  enabled = true;
  return {
    shutdown: async () => {
      enabled = false;
      await exporter.shutdown().catch(() => {});
      trace.disable();
      context.disable();
      current = trace.getTracer(TRACER);
    },
  };
}

export const tracer = (): Tracer => current;

/**
 * Runs `fn` inside a span. A failure marks the span with the error's class name only: error
 * messages may quote what the user wrote.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  if (!enabled) return fn(NOOP_SPAN);
  return current.startActiveSpan(name, { attributes, kind }, async (span) => {
    openQueryScope(span);
    try {
      return await fn(span);
    } catch (err) {
      markError(span, err);
      throw err;
    } finally {
      closeQueryScope(current, span);
      span.end();
    }
  });
}

export function markError(span: Span, err: unknown): void {
  span.setAttribute('error.type', errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

export { errorType, SpanKind };
