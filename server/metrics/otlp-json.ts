import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { LiteSpan } from './lite-tracer.js';

/**
 * OTLP/JSON (an ExportTraceServiceRequest) written as text, span by span, as each span ends: the
 * same document the SDK's JsonTraceSerializer makes from its ReadableSpans (otlp-json.test.ts
 * compares the two), without an object tree per span. Ids and numbers need no escaping; names
 * and string values go through JSON.stringify.
 */

/** The fields of a finished span that are exported ({@link LiteSpan} has them). */
export type EncodableSpan = Pick<
  LiteSpan,
  'context' | 'parentSpanId' | 'name' | 'kind' | 'startTime' | 'endTime' | 'attributes' | 'statusCode' | 'statusMessage' | 'events'
>;

/** W3C sampled, plus OTLP's "has is-remote" bit (the parent is never remote here), as the SDK writes it. */
const FLAGS = 0x101;
const q = JSON.stringify;

/**
 * Unix ms as a decimal nanosecond string, to the microsecond: a double holds no more at today's
 * epoch, and whole microseconds since 1970 (~1.8e15) are exact integers in one.
 */
export function nanos(ms: number): string {
  return `${Math.round(ms * 1000)}000`;
}

/** As the SDK's toAnyValue, as JSON text. */
function anyValue(v: AttributeValue | undefined): string {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${q(v)}}`;
    case 'number':
      return Number.isInteger(v) ? `{"intValue":${v}}` : `{"doubleValue":${q(v)}}`;
    case 'boolean':
      return `{"boolValue":${v}}`;
    default:
      return Array.isArray(v) ? `{"arrayValue":{"values":[${v.map((e) => anyValue(e ?? undefined)).join(',')}]}}` : '{}';
  }
}

/** `{"key":"…","value":` per attribute name: the same few dozen names come back in every span. */
const keyPrefixes = new Map<string, string>();
function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${q(key)},"value":`;
    if (keyPrefixes.size < 1000) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

function keyValues(attributes: Attributes): string {
  let out = '';
  for (const key in attributes) out += `${out ? ',' : ''}${keyPrefix(key)}${anyValue(attributes[key])}}`;
  return `[${out}]`;
}

const event = (e: NonNullable<LiteSpan['events']>[number]) =>
  `{"attributes":${e.attributes ? keyValues(e.attributes) : '[]'},"name":${q(e.name)},"timeUnixNano":"${nanos(e.time)}","droppedAttributesCount":0}`;

/** One span as JSON text; the field order is the SDK's. */
export function spanJson(s: EncodableSpan): string {
  const parent = s.parentSpanId;
  return (
    `{"traceId":"${s.context.traceId}","spanId":"${s.context.spanId}",${parent ? `"parentSpanId":"${parent}",` : ''}"name":${q(s.name)},` +
    // OTLP counts from UNSPECIFIED = 0; the API's SpanKind from INTERNAL = 0.
    `"kind":${s.kind + 1},"startTimeUnixNano":"${nanos(s.startTime)}","endTimeUnixNano":"${nanos(s.endTime)}",` +
    `"attributes":${keyValues(s.attributes)},"droppedAttributesCount":0,"events":[${s.events ? s.events.map(event).join(',') : ''}],"droppedEventsCount":0,` +
    `"status":{"code":${s.statusCode}${s.statusMessage === undefined ? '' : `,"message":${q(s.statusMessage)}`}},"links":[],"droppedLinksCount":0,"flags":${FLAGS}}`
  );
}

/**
 * The export request around spans already written as JSON text: `scopes` maps each
 * instrumentation scope's name to its spans' text, comma-separated, in chunks. Written into a
 * buffer from `alloc` (at least the given size), returned cut to the document's length.
 */
export function exportDocument(
  resource: Attributes,
  scopes: ReadonlyMap<string, readonly Uint8Array[]>,
  alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`{"resourceSpans":[{"resource":{"attributes":${keyValues(resource)},"droppedAttributesCount":0},"scopeSpans":[`)];
  let first = true;
  for (const [name, chunks] of scopes) {
    parts.push(Buffer.from(`${first ? '' : ','}{"scope":{"name":${q(name)}},"spans":[`), ...chunks, Buffer.from(']}'));
    first = false;
  }
  parts.push(Buffer.from(']}]}'));
  let size = 0;
  for (const p of parts) size += p.length;
  const body = alloc(size);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return body.subarray(0, size);
}
