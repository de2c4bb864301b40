import { ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';

/** One statement family's queries inside one request or job step. */
interface FamilyStat {
  count: number;
  /** Unix ms of the first query's start and the last query's end. */
  start: number;
  end: number;
  ms: number;
  error?: string;
}

/**
 * A span per database query family per request (or job step, or retrieval stage), not per
 * query: a request that reads twenty items makes one `db select vault_items` span with
 * `cv.db.query_count` 20, not twenty spans. Queries are added up while their scope is open (the
 * active span's entry here) and written as child spans when it closes, just before the scope's own
 * span ends. A query with no open scope (one that outlives its request, like a job claimed after
 * the 202, or background work with no span) gets a span of its own, as before.
 */
const scopes = new WeakMap<Span, Map<string, FamilyStat>>();

export function openQueryScope(span: Span): void {
  if (span.isRecording()) scopes.set(span, new Map());
}

/** Adds a finished query (`start` in Unix ms) to the active scope, or writes its own span. */
export function recordQuery(tracer: Tracer, family: string, start: number, ms: number, error?: string): void {
  const active = trace.getActiveSpan();
  const scope = active && scopes.get(active);
  if (!scope) {
    // Not sampled: nothing to write. (An ended span no longer records, but was sampled: a query
    // that outlives its request is still written, as its child.)
    if (active && !(active.spanContext().traceFlags & TraceFlags.SAMPLED)) return;
    writeFamily(tracer, active, family, { count: 1, start, end: start + ms, ms, error });
    return;
  }
  const stat = scope.get(family);
  if (!stat) scope.set(family, { count: 1, start, end: start + ms, ms, error });
  else {
    stat.count++;
    stat.end = Math.max(stat.end, start + ms);
    stat.ms += ms;
    stat.error ??= error;
  }
}

/** Writes the scope's family spans (call before `span.end()`); later queries get spans of their own. */
export function closeQueryScope(tracer: Tracer, span: Span): void {
  const scope = scopes.get(span);
  if (!scope) return;
  scopes.delete(span);
  for (const [family, stat] of scope) writeFamily(tracer, span, family, stat);
}

function writeFamily(tracer: Tracer, parent: Span | undefined, family: string, stat: FamilyStat): void {
  const space = family.indexOf(' ');
  const span = tracer.startSpan(
    `db ${family}`,
    {
      startTime: stat.start,
      attributes: {
        'db.system.name': 'postgresql',
        'db.operation.name': space < 0 ? family : family.slice(0, space),
        'db.collection.name': space < 0 ? '' : family.slice(space + 1),
        'cv.db.query_count': stat.count,
        'cv.db.query_ms': Math.round(stat.ms * 1000) / 1000,
      },
    },
    parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
  );
  if (stat.error) {
    span.setAttribute('error.type', stat.error);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end(stat.end);
}
