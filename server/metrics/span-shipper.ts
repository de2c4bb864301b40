import { Worker } from 'node:worker_threads';
import { TraceFlags, type Attributes } from '@opentelemetry/api';
import type { BufferConfig, ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';

/** What crosses to the worker per span: plain values, cheap to clone. See span-export-worker.mjs. */
type CompactSpan = [
  traceId: string,
  spanId: string,
  parentSpanId: string | undefined,
  name: string,
  kind: number,
  startTime: [number, number],
  endTime: [number, number],
  duration: [number, number],
  attributes: Attributes,
  statusCode: number,
  statusMessage: string | undefined,
  events: Array<{ name: string; time: [number, number]; attributes?: Attributes }>,
  scope: string,
];

/** Spans sent to the worker at once, and the longest a finished span waits here. */
const SHIP_SPANS = 128;
const SHIP_MS = 20;

/**
 * A span processor that hands finished spans to a worker thread, which batches, serializes and
 * sends them (OTLP/HTTP). On the event loop a span then costs a small tuple: the SDK's batching
 * processor kept every span object for seconds (promoted to the old generation, then collected
 * by full GCs) and serialized thousands at once to JSON between requests. Spans travel in small
 * groups every few milliseconds, so they die young. Past `maxQueueSize` spans waiting in the worker,
 * its processor drops new ones (bounded memory), as the SDK's does.
 */
export class WorkerSpanProcessor implements SpanProcessor {
  readonly #worker: Worker;
  #spans: CompactSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushes = 0;
  readonly #waiting = new Map<number, () => void>();

  constructor(opts: { url: string; resource: Attributes; batch: BufferConfig }) {
    // execArgv: [] keeps the parent's `--import tsx` out: the worker is plain JavaScript.
    this.#worker = new Worker(new URL('./span-export-worker.mjs', import.meta.url), { workerData: opts, execArgv: [] });
    this.#worker.unref();
    this.#worker.on('message', (m: { flushed: number }) => {
      this.#waiting.get(m.flushed)?.();
      this.#waiting.delete(m.flushed);
    });
    // A worker that died (it cannot reach its dependencies, say) ends tracing, not the server.
    this.#worker.on('error', () => this.#release());
    this.#worker.on('exit', () => this.#release());
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const ctx = span.spanContext();
    if (!(ctx.traceFlags & TraceFlags.SAMPLED)) return;
    this.#spans.push([
      ctx.traceId,
      ctx.spanId,
      span.parentSpanContext?.spanId,
      span.name,
      span.kind,
      span.startTime,
      span.endTime,
      span.duration,
      span.attributes,
      span.status.code,
      span.status.message,
      span.events.length ? span.events.map((e) => ({ name: e.name, time: e.time, attributes: e.attributes })) : [],
      span.instrumentationScope.name,
    ]);
    if (this.#spans.length >= SHIP_SPANS) this.#ship();
    else this.#timer ??= setTimeout(this.#ship, SHIP_MS).unref();
  }

  forceFlush(): Promise<void> {
    return this.#flush(false);
  }

  async shutdown(): Promise<void> {
    await this.#flush(true);
    await this.#worker.terminate();
  }

  readonly #ship = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#spans.length) return;
    this.#worker.postMessage({ spans: this.#spans });
    this.#spans = [];
  };

  #flush(shutdown: boolean): Promise<void> {
    this.#ship();
    const id = ++this.#flushes;
    return new Promise<void>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ flush: id, shutdown });
    });
  }

  #release(): void {
    for (const done of this.#waiting.values()) done();
    this.#waiting.clear();
  }
}
