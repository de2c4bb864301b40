// Worker-thread side of span-shipper.ts: rebuilds the finished spans it is sent and exports them
// with the SDK's batching processor and OTLP/HTTP exporter, off the server's event loop.
// Plain JavaScript that imports only packages, so the same file runs from the sources and dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-node';

const { url, resource: resourceAttributes, batch } = workerData;
const resource = resourceFromAttributes(resourceAttributes);
const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url }), batch);
const scopes = new Map();
const SAMPLED = 1;

/** A ReadableSpan (what the exporter reads) from the tuple span-shipper.ts `compact()` writes. */
function readable([traceId, spanId, parentSpanId, name, kind, startTime, endTime, duration, attributes, code, message, events, scope]) {
  const context = { traceId, spanId, traceFlags: SAMPLED };
  let instrumentationScope = scopes.get(scope);
  if (!instrumentationScope) scopes.set(scope, (instrumentationScope = { name: scope }));
  return {
    name,
    kind,
    spanContext: () => context,
    parentSpanContext: parentSpanId ? { traceId, spanId: parentSpanId, traceFlags: SAMPLED } : undefined,
    startTime,
    endTime,
    duration,
    status: message === undefined ? { code } : { code, message },
    attributes,
    links: [],
    events,
    ended: true,
    resource,
    instrumentationScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

parentPort.on('message', async (msg) => {
  if (msg.spans) for (const s of msg.spans) processor.onEnd(readable(s));
  if (msg.flush === undefined) return;
  await (msg.shutdown ? processor.shutdown() : processor.forceFlush()).catch(() => {});
  parentPort.postMessage({ flushed: msg.flush });
});
