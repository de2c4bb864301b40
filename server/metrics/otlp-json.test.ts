import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { exportDocument, nanos, spanJson, type EncodableSpan } from './otlp-json.js';

interface Spec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  /** Unix ms, µs precision. */
  start: number;
  end: number;
  attributes: Attributes;
  status: { code: SpanStatusCode; message?: string };
  events?: Array<{ name: string; time: number; attributes?: Attributes }>;
  scope: string;
}

const RESOURCE = { 'service.name': 'context-vault', 'service.version': '1.2.3' };
/** One object: the SDK groups spans by resource identity. */
const SDK_RESOURCE = { attributes: RESOURCE };

/** [s, ns] exactly, from a µs-precision Unix ms value written as a decimal literal. */
const hr = (ms: number): [number, number] => {
  const us = Math.round(ms * 1000);
  return [Math.floor(us / 1e6), (us % 1e6) * 1000];
};

/** The span as the SDK holds it when it hands it to its exporter (a ReadableSpan). */
function readable(s: Spec) {
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: 1 }),
    parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hr(s.start),
    endTime: hr(s.end),
    duration: [0, 0] as [number, number],
    status: s.status,
    attributes: s.attributes,
    links: [],
    events: (s.events ?? []).map((e) => ({ name: e.name, time: hr(e.time), attributes: e.attributes })),
    ended: true,
    resource: SDK_RESOURCE,
    instrumentationScope: { name: s.scope },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The same span as the tracer ends it. */
const ours = (s: Spec): EncodableSpan => ({
  context: { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 },
  parentSpanId: s.parentSpanId,
  name: s.name,
  kind: s.kind,
  startTime: s.start,
  endTime: s.end,
  attributes: s.attributes,
  statusCode: s.status.code,
  statusMessage: s.status.message,
  events: s.events,
});

/** Spans grouped by scope as the exporter writes them: comma-separated text, in chunks. */
function written(specs: Spec[]): Map<string, Uint8Array[]> {
  const scopes = new Map<string, Uint8Array[]>();
  for (const s of specs) {
    const chunks = scopes.get(s.scope) ?? [];
    chunks.push(Buffer.from(`${chunks.length ? ',' : ''}${spanJson(ours(s))}`));
    scopes.set(s.scope, chunks);
  }
  return scopes;
}

const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('OTLP/JSON encoding of ended spans', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const specs: Spec[] = [
    {
      traceId: trace,
      spanId: '00f067aa0ba902b7',
      name: 'GET /api/items/:id',
      kind: SpanKind.SERVER,
      start: 1764974000123.456,
      end: 1764974000125.001,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/:id', 'http.response.status_code': 200, 'cv.request_id': 'req-1' },
      status: { code: SpanStatusCode.UNSET },
      scope: 'context-vault',
    },
    {
      traceId: trace,
      spanId: '53995c3f42cd8ad8',
      parentSpanId: '00f067aa0ba902b7',
      name: 'db select vault_items',
      kind: SpanKind.INTERNAL,
      start: 1764974000123.5,
      end: 1764974000124.999,
      attributes: { 'db.system.name': 'postgresql', 'cv.db.query_count': 3, 'cv.db.query_ms': 0.412, ok: true, tags: ['a', 'b'], sizes: [1, 2.5] },
      status: { code: SpanStatusCode.ERROR, message: 'boom' },
      events: [
        { name: 'exception', time: 1764974000124.25, attributes: { 'exception.type': 'TypeError' } },
        { name: 'marker', time: 1764974000124.3 },
      ],
      scope: 'context-vault',
    },
    {
      traceId: 'a3ce929d0e0e47364bf92f3577b34da6',
      spanId: '1111111111111111',
      name: 'job fitbit',
      kind: SpanKind.CONSUMER,
      start: 1764974001000,
      end: 1764974002000.999,
      attributes: {},
      status: { code: SpanStatusCode.OK },
      scope: 'other-scope',
    },
  ];

  it('writes what the SDK serializer writes for the same spans (structure and values)', () => {
    const oracle = decode(JsonTraceSerializer.serializeRequest(specs.map(readable) as never));
    expect(decode(exportDocument(RESOURCE, written(specs)))).toEqual(oracle);
  });

  it('writes Unix ms as exact decimal nanoseconds, to the microsecond', () => {
    expect(nanos(1764974000123.456)).toBe('1764974000123456000');
    expect(nanos(1764974000123)).toBe('1764974000123000000');
    expect(nanos(1764974000123 + 0.9999)).toBe('1764974000124000000');
    expect(nanos(1764974000123.001)).toBe('1764974000123001000');
  });
});
