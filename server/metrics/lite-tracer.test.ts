import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiteSpan, LiteTracerProvider, type SpanSink } from './lite-tracer.js';
import { samplerFromEnv } from './sampler.js';

const sinkOf = () => {
  const ended: LiteSpan[] = [];
  const sink: SpanSink = { onEnd: (s) => ended.push(s) };
  return { ended, sink };
};
const tracerWith = (env: NodeJS.ProcessEnv = {}) => {
  const { ended, sink } = sinkOf();
  return { ended, tracer: new LiteTracerProvider(samplerFromEnv(env), sink).getTracer('test') };
};
const sampled = (s: Span) => (s.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

describe('the lite tracer', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('gives a child its parent trace id and parent span id, and a root a new trace', async () => {
    const { tracer, ended } = tracerWith();
    const root = tracer.startSpan('root', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const other = tracer.startSpan('other', {}, ROOT_CONTEXT);
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(root.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(other.spanContext().traceId).not.toBe(root.spanContext().traceId);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(child.spanContext().spanId).not.toBe(root.spanContext().spanId);
    expect((child as LiteSpan).parentSpanId).toBe(root.spanContext().spanId);
    expect((root as LiteSpan).parentSpanId).toBeUndefined();
    expect((root as LiteSpan).kind).toBe(SpanKind.SERVER);

    // The active span (context manager) is the parent when no context is given, across awaits.
    await tracer.startActiveSpan('active', async (active) => {
      await new Promise((r) => setTimeout(r, 1));
      const inner = tracer.startSpan('inner');
      expect((inner as LiteSpan).parentSpanId).toBe(active.spanContext().spanId);
      inner.end();
      active.end();
    });
    expect(ended.map((s) => s.name)).toEqual(['inner', 'active']);
  });

  it('records attributes in its own object, dropping values the SDK drops', () => {
    const { tracer } = tracerWith();
    const shared = { a: 1, b: 'x' };
    const span = tracer.startSpan('s', { attributes: { ...shared, gone: undefined, arr: [1, 2] } }) as LiteSpan;
    span.setAttribute('c', true);
    span.setAttributes({ d: 2.5, e: { nested: 1 } as never });
    expect(span.attributes).toEqual({ a: 1, b: 'x', arr: [1, 2], c: true, d: 2.5 });
    const own = tracer.startSpan('t', { attributes: shared }) as LiteSpan;
    own.setAttribute('z', 1);
    expect(shared).toEqual({ a: 1, b: 'x' });
  });

  it('ends once: a second end, and changes after the first, are ignored', () => {
    const { tracer, ended } = tracerWith();
    const span = tracer.startSpan('s', { startTime: 1764974000000 }) as LiteSpan;
    span.end(1764974000010);
    span.end(1764974000020);
    span.setAttribute('late', 1);
    span.updateName('renamed');
    span.setStatus({ code: SpanStatusCode.ERROR });
    expect(ended).toHaveLength(1);
    expect(span.isRecording()).toBe(false);
    expect([span.startTime, span.endTime, span.name, span.statusCode, span.attributes]).toEqual([1764974000000, 1764974000010, 's', 0, {}]);
  });

  it('keeps the status as the SDK does: OK is final, a message only with ERROR', () => {
    const { tracer } = tracerWith();
    const a = tracer.startSpan('a') as LiteSpan;
    a.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    expect([a.statusCode, a.statusMessage]).toEqual([SpanStatusCode.ERROR, 'failed']);
    a.setStatus({ code: SpanStatusCode.UNSET });
    expect(a.statusCode).toBe(SpanStatusCode.ERROR);
    a.setStatus({ code: SpanStatusCode.OK, message: 'ignored' });
    a.setStatus({ code: SpanStatusCode.ERROR });
    expect([a.statusCode, a.statusMessage]).toEqual([SpanStatusCode.OK, undefined]);
  });

  it('records an exception by its type, never its message', () => {
    const { tracer } = tracerWith();
    const span = tracer.startSpan('s') as LiteSpan;
    span.recordException(new TypeError('secretcanary in a message'));
    span.recordException('secretcanary as a string');
    span.recordException({ code: 'ECONNRESET', message: 'secretcanary' });
    expect(span.events!.map((e) => e.attributes)).toEqual([
      { 'exception.type': 'TypeError' },
      { 'exception.type': 'Error' },
      { 'exception.type': 'ECONNRESET' },
    ]);
    expect(JSON.stringify(span)).not.toContain('secretcanary');
  });

  it('makes non-sampled spans non-recording, sends none of them, and their children follow', () => {
    const { tracer, ended } = tracerWith({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
    const root = tracer.startSpan('root', {}, ROOT_CONTEXT);
    expect(root).not.toBeInstanceOf(LiteSpan);
    expect([root.isRecording(), sampled(root)]).toEqual([false, false]);
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(child.isRecording()).toBe(false);
    root.end();
    child.end();
    expect(ended).toHaveLength(0);
  });

  it('samples as OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG say', () => {
    const on = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED };
    const off = { ...on, traceFlags: TraceFlags.NONE };
    // The ratio sampler XORs the trace id's 32-bit words: 1 here, 0xffffffff there.
    const low = '00000000000000000000000000000001';
    const high = 'ffffffff000000000000000000000000';
    const decide = (sampler: string | undefined, parent: typeof on | undefined, traceId = low, arg?: string) =>
      samplerFromEnv({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg })(parent, traceId);

    expect([decide('always_on', undefined), decide('always_on', off)]).toEqual([true, true]);
    expect([decide('always_off', undefined), decide('always_off', on)]).toEqual([false, false]);
    for (const dflt of [undefined, 'parentbased_always_on', 'no_such_sampler']) {
      expect([decide(dflt, undefined), decide(dflt, on), decide(dflt, off)], String(dflt)).toEqual([true, true, false]);
    }
    expect([decide('parentbased_always_off', undefined), decide('parentbased_always_off', on)]).toEqual([false, true]);
    expect([decide('traceidratio', undefined, low, '0.5'), decide('traceidratio', undefined, high, '0.5')]).toEqual([true, false]);
    expect([decide('traceidratio', on, high, '0'), decide('traceidratio', undefined, high, '1')]).toEqual([false, true]);
    // A missing or out-of-range ratio is 1, as the SDK reads it.
    expect([decide('traceidratio', undefined, high), decide('traceidratio', undefined, high, '7')]).toEqual([true, true]);
    expect([decide('parentbased_traceidratio', on, high, '0'), decide('parentbased_traceidratio', undefined, high, '0.5')]).toEqual([true, false]);
    expect(decide('parentbased_traceidratio', off, low, '1')).toBe(false);
  });
});
