import { randomBytes } from 'node:crypto';
import {
  context,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { errorType } from './error-type.js';
import type { Sampler } from './sampler.js';

/**
 * A tracer that records only what the exporter sends: the SDK's spans cost a request several
 * objects each (hrtime arrays, copied attribute maps, closures, a resource and scope per span) and
 * showed in item-read throughput. Here a span is one object with numeric times (Unix ms, µs
 * precision), its own attribute object and an event list only when it has events; a non-sampled
 * span is the API's non-recording wrapper. Finished spans go to a {@link SpanSink} (span-exporter.ts).
 */

/** Where ended, sampled spans go. */
export interface SpanSink {
  onEnd(span: LiteSpan): void;
}

export interface SpanEvent {
  name: string;
  /** Unix ms. */
  time: number;
  attributes?: Attributes;
}

/** As the SDK's default limit: a span that adds events in a loop stays bounded. */
const MAX_EVENTS = 128;
const ORIGIN = performance.timeOrigin;
const now = (): number => ORIGIN + performance.now();

/** Unix ms from an API time: epoch ms, Date, [s, ns], or a performance.now() reading (as the SDK reads them). */
function toMs(time: TimeInput | undefined): number {
  if (time === undefined) return now();
  if (typeof time === 'number') return time < ORIGIN / 2 ? ORIGIN + time : time;
  if (time instanceof Date) return time.getTime();
  return time[0] * 1000 + time[1] / 1e6;
}

/** Primitive values and arrays of them; what the SDK would drop (undefined, null, objects) is dropped. */
function isValue(v: unknown): v is AttributeValue {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || (Array.isArray(v) && v.every((e) => e == null || typeof e !== 'object'));
}

/**
 * Trace and span ids cut from a pool of random hex, refilled from the CSPRNG every 8,192 bytes,
 * instead of four Math.random() calls and a hex encoding per id: ids are made twice per span, on
 * every request.
 */
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export class PooledIds {
  #hex = '';
  #at = 0;

  traceId = (): string => this.#take(32);
  spanId = (): string => this.#take(16);

  #take(chars: number): string {
    if (this.#at + chars > this.#hex.length) {
      this.#hex = randomBytes(8192).toString('hex');
      this.#at = 0;
    }
    const id = this.#hex.slice(this.#at, (this.#at += chars));
    // All zeros is an invalid id (W3C trace context): 2^-64 at worst, but never sent.
    return id !== (chars === 32 ? ZERO_TRACE_ID : ZERO_SPAN_ID) ? id : this.#take(chars);
  }
}

export class LiteSpan implements Span {
  /** Set once, by end(): read by the sink. */
  endTime = 0;
  statusCode: SpanStatusCode = SpanStatusCode.UNSET;
  statusMessage: string | undefined = undefined;
  events: SpanEvent[] | undefined = undefined;
  readonly attributes: Attributes = {};
  #ended = false;

  constructor(
    readonly context: SpanContext,
    readonly parentSpanId: string | undefined,
    public name: string,
    readonly kind: SpanKind,
    readonly startTime: number,
    readonly scope: string,
    attributes: Attributes | undefined,
    private readonly sink: SpanSink,
  ) {
    // The span's own object (a caller's object may be shared, and setAttribute writes here).
    if (attributes) for (const key in attributes) if (isValue(attributes[key])) this.attributes[key] = attributes[key];
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (!this.#ended && isValue(value)) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]!);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#ended) return this;
    const events = (this.events ??= []);
    if (events.length >= MAX_EVENTS) return this;
    const isTime = typeof attributesOrTime === 'number' || attributesOrTime instanceof Date || Array.isArray(attributesOrTime);
    const attributes = isTime || !attributesOrTime ? undefined : (attributesOrTime as Attributes);
    events.push({ name, time: toMs(isTime ? (attributesOrTime as TimeInput) : time), attributes });
    return this;
  }

  // Links are not exported: nothing here makes them.
  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  /** As the SDK: UNSET changes nothing, OK is final, a message is kept for ERROR only. */
  setStatus(status: SpanStatus): this {
    if (this.#ended || status.code === SpanStatusCode.UNSET || this.statusCode === SpanStatusCode.OK) return this;
    this.statusCode = status.code;
    this.statusMessage = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? status.message : undefined;
    return this;
  }

  updateName(name: string): this {
    if (!this.#ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endTime = Math.max(toMs(endTime), this.startTime);
    this.sink.onEnd(this);
  }

  isRecording(): boolean {
    return !this.#ended;
  }

  /** The exception's type only: a message may quote what the user wrote. */
  recordException(exception: Exception, time?: TimeInput): void {
    this.addEvent('exception', { 'exception.type': typeof exception === 'string' ? 'Error' : errorType(exception) }, time);
  }
}

class LiteTracer implements Tracer {
  constructor(
    private readonly scope: string,
    private readonly ids: PooledIds,
    private readonly sampler: Sampler,
    private readonly sink: SpanSink,
  ) {}

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const active = options?.root ? undefined : trace.getSpan(ctx);
    // Ours are valid by construction: only a foreign span context is checked (two regexes).
    const found = active instanceof LiteSpan ? active.context : active?.spanContext();
    const parent = found && (active instanceof LiteSpan || isSpanContextValid(found)) ? found : undefined;
    const traceId = parent ? parent.traceId : this.ids.traceId();
    const spanId = this.ids.spanId();
    if (!this.sampler(parent, traceId)) return trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.NONE });
    return new LiteSpan(
      { traceId, spanId, traceFlags: TraceFlags.SAMPLED },
      parent?.spanId,
      name,
      options?.kind ?? SpanKind.INTERNAL,
      toMs(options?.startTime),
      this.scope,
      options?.attributes,
      this.sink,
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a: SpanOptions | F, b?: Context | F, c?: F): ReturnType<F> {
    const [options, ctx, fn] =
      typeof a === 'function' ? [undefined, context.active(), a] : typeof b === 'function' ? [a, context.active(), b] : [a, b ?? context.active(), c!];
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

export class LiteTracerProvider implements TracerProvider {
  readonly #tracers = new Map<string, LiteTracer>();
  readonly #ids = new PooledIds();

  constructor(
    private readonly sampler: Sampler,
    private readonly sink: SpanSink,
  ) {}

  getTracer(name: string): Tracer {
    let tracer = this.#tracers.get(name);
    if (!tracer) this.#tracers.set(name, (tracer = new LiteTracer(name, this.#ids, this.sampler, this.sink)));
    return tracer;
  }
}
