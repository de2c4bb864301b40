/**
 * Tracing's main-thread cost per item read, without HTTP or a database: what a traced read does
 * on the event loop (a SERVER span with the request's attributes, one query counted into its
 * scope, the `db <family>` child span written when the request ends, both ended and written as
 * OTLP/JSON into the exporter's buffers), timed over many iterations. The median of several runs,
 * in microseconds. Runs are short enough that no span meets a full queue (which would drop it
 * unwritten, and cost less).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { closeQueryScope, openQueryScope, recordQuery } from '../server/metrics/query-spans.js';
import { startTracing, tracer } from '../server/metrics/tracing.js';
import type { BenchResult } from './types.js';

const ITERATIONS = 1500;
const RUNS = 15;

export default async function run(): Promise<BenchResult[]> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const tracing = await startTracing(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`);
  const t = tracer();
  const read = (i: number) => {
    const span = t.startSpan(
      'GET /api/items/:id',
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/:id', 'cv.request_id': `req-${i}` } },
      ROOT_CONTEXT,
    );
    openQueryScope(span);
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => recordQuery(t, 'select vault_items', Date.now() - 0.4, 0.4));
    span.setAttribute('http.response.status_code', 200);
    closeQueryScope(t, span);
    span.end();
  };
  try {
    const us: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const start = performance.now();
      for (let i = 0; i < ITERATIONS; i++) read(i);
      // Run 0 warms up; between runs the exporter's batches are sent and answered.
      if (run > 0) us.push(((performance.now() - start) * 1000) / ITERATIONS);
      await new Promise((r) => setTimeout(r, 50));
    }
    us.sort((a, b) => a - b);
    return [{ name: `main-thread time per traced read (request span + one db family span), median of ${RUNS} runs`, value: us[RUNS >> 1]!, unit: 'us' }];
  } finally {
    await tracing.shutdown();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}
