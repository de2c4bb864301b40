import { randomBytes } from 'node:crypto';
import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-node';
import { closeQueryScope, openQueryScope } from './query-spans.js';

/**
 * OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The SDK and exporter
 * are imported only when it is, so a server without tracing loads nothing but the (tiny) API,
 * whose tracer is a no-op. Span names are fixed strings and route templates; attributes carry
 * counts, kinds, model names, outcomes and random ids, never content, titles, file names, query
 * strings, emails, prompts, answers or tokens (server/metrics/tracing.int.test.ts looks for
 * canaries in every exported span).
 */
const TRACER = 'context-vault';

let enabled = false;
const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
/** The API's no-op tracer until tracing starts; then the SDK's, looked up once (not per span). */
let current: Tracer = trace.getTracer(TRACER);

/** Whether a tracer provider is running (callers skip building attributes when it is not). */
export const tracingEnabled = (): boolean => enabled;

export interface Tracing {
  shutdown(): Promise<void>;
}

/** Starts the SDK; spans go to `<endpoint>/v1/traces` (OTLP/HTTP) from a worker thread. */
export async function startTracing(endpoint: string, opts: { serviceVersion?: string } = {}): Promise<Tracing> {
  const [{ NodeTracerProvider }, { WorkerSpanProcessor }] = await Promise.all([import('@opentelemetry/sdk-trace-node'), import('./span-shipper.js')]);
  const provider = new NodeTracerProvider({
    idGenerator: new PooledIdGenerator(),
    // Spans are exported from a worker thread (span-shipper.ts). A bounded queue there: past it
    // spans are dropped, never buffered without limit. Few, large exports: each one is an HTTP
    // request and a JSON document of its own.
    spanProcessors: [
      new WorkerSpanProcessor({
        url: `${endpoint.replace(/\/+$/, '')}/v1/traces`,
        resource: { 'service.name': 'context-vault', ...(opts.serviceVersion ? { 'service.version': opts.serviceVersion } : {}) },
        batch: { scheduledDelayMillis: 5000, maxQueueSize: 16384, maxExportBatchSize: 4096 },
      }),
    ],
  });
  // The default context manager: one AsyncLocalStorage, entered once per request and per
  // withSpan (never per callback), which is what lets a query's family span find its request.
  provider.register();
  current = trace.getTracer(TRACER);
  enabled = true;
  return {
    shutdown: async () => {
      enabled = false;
      await provider.forceFlush().catch(() => {});
      await provider.shutdown().catch(() => {});
      trace.disable();
      context.disable();
      current = trace.getTracer(TRACER);
    },
  };
}

export const tracer = (): Tracer => current;

/**
 * Trace and span ids cut from a pool of random hex, refilled from the CSPRNG every 8,192 bytes,
 * instead of the SDK's four Math.random() calls and a hex encoding per id: ids are made twice per
 * span, on every request.
 */
class PooledIdGenerator implements IdGenerator {
  #hex = '';
  #at = 0;

  generateTraceId = () => this.#take(32);
  generateSpanId = () => this.#take(16);

  #take(chars: number): string {
    if (this.#at + chars > this.#hex.length) {
      this.#hex = randomBytes(8192).toString('hex');
      this.#at = 0;
    }
    const id = this.#hex.slice(this.#at, (this.#at += chars));
    // All zeros is an invalid id (W3C trace context): 2^-64 at worst, but never sent.
    return Number.parseInt(id.slice(0, 8), 16) !== 0 || /[^0]/.test(id) ? id : this.#take(chars);
  }
}

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

/** A class name or stable code, never a message. */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(code)) return code;
  const name = (err as { name?: unknown })?.name;
  return typeof name === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(name) ? name : 'Error';
}

export { SpanKind };
