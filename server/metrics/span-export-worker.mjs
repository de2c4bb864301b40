// Worker-thread side of span-shipper.ts: queues the finished spans it is sent (flat layout, see
// STRIDE), encodes them as OTLP/JSON (otlp-json.mjs) and sends them with otlp-exporter-base's
// HTTP export delegate (its retries, timeout and the OTEL_EXPORTER_OTLP_[TRACES_]HEADERS etc.
// variables), batched as the SDK's BatchSpanProcessor batches, off the server's event loop.
// Plain JavaScript that imports only packages and its sibling, so it runs from the sources and dist/.
import { parentPort, workerData } from 'node:worker_threads';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { jsonSerializer, STRIDE } from './otlp-json.mjs';

const { url, resource, batch } = workerData;
const exporter = new OTLPExporterBase(
  createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
    jsonSerializer(resource),
    'otlp_http_span_exporter',
    { name: 'span', countItems: (flat) => flat.length / STRIDE },
  ),
);
const MAX_QUEUED = batch.maxQueueSize * STRIDE;
const PER_EXPORT = batch.maxExportBatchSize * STRIDE;

const queue = [];
let timer;
/** Exports run one after another, in order; a flush waits for those before it. */
let chain = Promise.resolve();

/** A failed export is dropped, as the SDK's processor drops it (the delegate has retried). */
const send = (flat) => new Promise((resolve) => exporter.export(flat, resolve));

async function drain(all) {
  while (queue.length >= PER_EXPORT || (all && queue.length)) await send(queue.splice(0, PER_EXPORT));
}

function schedule(all) {
  clearTimeout(timer);
  timer = undefined;
  chain = chain.then(() => drain(all)).then(arm);
  return chain;
}

/** What is left waits at most the export interval. */
function arm() {
  if (queue.length) timer ??= setTimeout(() => schedule(true), batch.scheduledDelayMillis);
}

parentPort.on('message', async (msg) => {
  if (msg.spans) {
    // Past the bound, new spans are dropped.
    const take = Math.min(msg.spans.length, MAX_QUEUED - queue.length);
    for (let i = 0; i < take; i++) queue.push(msg.spans[i]);
    if (queue.length >= PER_EXPORT) schedule(false);
    else arm();
  }
  if (msg.flush === undefined) return;
  await schedule(true);
  await (msg.shutdown ? exporter.shutdown() : exporter.forceFlush()).catch(() => {});
  parentPort.postMessage({ flushed: msg.flush });
});
