import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { LiteTracerProvider } from './lite-tracer.js';
import { samplerFromEnv } from './sampler.js';
import { SpanExporter } from './span-exporter.js';

interface Body {
  resourceSpans: Array<{ resource: { attributes: unknown[] }; scopeSpans: Array<{ spans: Array<{ name: string; kind: number }> }> }>;
}

async function receiver() {
  const bodies: Body[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const names = () => bodies.map((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, bodies, names, close: () => server.close() };
}

describe('span exporter', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('exports in batches of at most maxExportBatchSize, drops past maxQueueSize, and flushes', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const exporter = new SpanExporter({
      url: rx.url,
      resource: { 'service.name': 'test' },
      batch: { maxExportBatchSize: 2, maxQueueSize: 5, scheduledDelayMillis: 60_000 },
      onDropped: (n, reason) => dropped.push([n, reason]),
    });
    const dropped: Array<[number, string]> = [];
    cleanup.push(() => exporter.shutdown());
    const tracer = new LiteTracerProvider(samplerFromEnv({}), exporter).getTracer('scope');
    for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`, { kind: SpanKind.SERVER }).end();
    await exporter.forceFlush();
    expect(rx.names()).toEqual([['s0', 's1'], ['s2', 's3'], ['s4']]);
    expect(dropped).toEqual(Array(5).fill([1, 'queue_full']));
    expect(rx.bodies[0]!.resourceSpans[0]!.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'test' } }]);
    expect(rx.bodies[0]!.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.kind).toBe(2);
  });

  it('says how many spans a collector refused, so a collector that is down does not look like no traffic', async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":3,"message":"bad"}'));
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    cleanup.push(() => refusing.close());
    const dropped: Array<[number, string]> = [];
    const exporter = new SpanExporter({
      url: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/v1/traces`,
      resource: { 'service.name': 'test' },
      batch: { maxExportBatchSize: 3, maxQueueSize: 100, scheduledDelayMillis: 60_000 },
      onDropped: (n, reason) => dropped.push([n, reason]),
    });
    cleanup.push(() => exporter.shutdown());
    const tracer = new LiteTracerProvider(samplerFromEnv({}), exporter).getTracer('scope');
    for (let i = 0; i < 4; i++) tracer.startSpan(`s${i}`).end();
    await exporter.forceFlush();
    expect(dropped).toEqual([
      [3, 'export_failed'],
      [1, 'export_failed'],
    ]);
  });

  it('writes a batch larger than one buffer as one valid document, unicode included', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const exporter = new SpanExporter({ url: rx.url, resource: {}, batch: { maxExportBatchSize: 3000, maxQueueSize: 3000, scheduledDelayMillis: 60_000 } });
    cleanup.push(() => exporter.shutdown());
    const provider = new LiteTracerProvider(samplerFromEnv({}), exporter);
    const long = 'é→𝄞'.repeat(100);
    for (let i = 0; i < 1500; i++)
      provider
        .getTracer(i % 2 ? 'odd' : 'even')
        .startSpan(`${i} ${long}`)
        .end();
    await exporter.forceFlush();
    expect(rx.bodies).toHaveLength(1);
    const names = rx.names()[0]!;
    expect(names).toHaveLength(1500);
    expect(new Set(names.map((n) => n.split(' ')[1]))).toEqual(new Set([long]));
    expect(rx.bodies[0]!.resourceSpans[0]!.scopeSpans.map((s) => s.spans.length)).toEqual([750, 750]);
  });

  it('reuses its buffers across batches without leaking one batch’s text into the next', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const exporter = new SpanExporter({ url: rx.url, resource: {}, batch: { maxExportBatchSize: 5000, maxQueueSize: 5000, scheduledDelayMillis: 60_000 } });
    cleanup.push(() => exporter.shutdown());
    const tracer = new LiteTracerProvider(samplerFromEnv({}), exporter).getTracer('scope');
    // A large batch, then smaller ones written into the same (larger) chunks and body.
    for (const [round, count, pad] of [
      [0, 2000, 400],
      [1, 300, 10],
      [2, 1, 0],
    ] as const) {
      for (let i = 0; i < count; i++) tracer.startSpan(`r${round} ${i} ${'x'.repeat(pad)}`).end();
      await exporter.forceFlush();
    }
    const names = rx.names();
    expect(names.map((b) => b.length)).toEqual([2000, 300, 1]);
    names.forEach((batch, round) => expect(batch.every((n, i) => n.startsWith(`r${round} ${i} `))).toBe(true));
  });

  it('exports what waits once the scheduled delay passes, and nothing after shutdown', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const exporter = new SpanExporter({ url: rx.url, resource: {}, batch: { maxExportBatchSize: 100, maxQueueSize: 100, scheduledDelayMillis: 50 } });
    const tracer = new LiteTracerProvider(samplerFromEnv({}), exporter).getTracer('scope');
    tracer.startSpan('waits').end();
    for (let i = 0; i < 100 && !rx.bodies.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rx.names()).toEqual([['waits']]);
    await exporter.shutdown();
    tracer.startSpan('after shutdown').end();
    await exporter.forceFlush();
    expect(rx.names()).toEqual([['waits']]);
  });
});
