import { Worker } from 'node:worker_threads';
import type { Attributes } from '@opentelemetry/api';
import type { LiteSpan, SpanSink } from './lite-tracer.js';

/**
 * What crosses to the worker: every span as {@link STRIDE} consecutive values of one flat array
 * (no array or object per span beyond the span's own attributes and events), in this order:
 * traceId, spanId, parentSpanId (or undefined), name, kind (API SpanKind), start and end (Unix ms),
 * attributes, status code, status message (or undefined), events (or undefined), scope name.
 * span-export-worker.mjs reads the same layout.
 */
export const STRIDE = 12;

/** Spans sent to the worker at once, and the longest a finished span waits here. */
const SHIP_SPANS = 128;
const SHIP_MS = 20;

export interface ExportOptions {
  url: string;
  resource: Attributes;
  /** As the SDK's BatchSpanProcessor: spans per export, most queued, export interval. */
  batch: { maxExportBatchSize: number; maxQueueSize: number; scheduledDelayMillis: number };
}

/**
 * Hands finished spans to a worker thread, which queues, encodes and sends them (OTLP/HTTP JSON).
 * On the event loop a span then costs a dozen array slots; spans travel in small groups every few
 * milliseconds, so they die young (the SDK's batching processor kept every span object for
 * seconds, promoting it to the old generation). Past `maxQueueSize` spans waiting in the worker,
 * new ones are dropped (bounded memory), as the SDK's processor does.
 */
export class SpanShipper implements SpanSink {
  readonly #worker: Worker;
  #flat: unknown[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushes = 0;
  #closed = false;
  readonly #waiting = new Map<number, () => void>();

  constructor(opts: ExportOptions) {
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

  onEnd(s: LiteSpan): void {
    if (this.#closed) return;
    const c = s.context;
    this.#flat.push(
      c.traceId,
      c.spanId,
      s.parentSpanId,
      s.name,
      s.kind,
      s.startTime,
      s.endTime,
      s.attributes,
      s.statusCode,
      s.statusMessage,
      s.events,
      s.scope,
    );
    if (this.#flat.length >= SHIP_SPANS * STRIDE) this.#ship();
    else this.#timer ??= setTimeout(this.#ship, SHIP_MS).unref();
  }

  forceFlush(): Promise<void> {
    return this.#flush(false);
  }

  async shutdown(): Promise<void> {
    await this.#flush(true);
    this.#closed = true;
    await this.#worker.terminate();
  }

  readonly #ship = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#flat.length) return;
    this.#worker.postMessage({ spans: this.#flat });
    this.#flat = [];
  };

  #flush(shutdown: boolean): Promise<void> {
    this.#ship();
    if (this.#closed) return Promise.resolve();
    const id = ++this.#flushes;
    return new Promise<void>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ flush: id, shutdown });
    });
  }

  #release(): void {
    this.#closed = true;
    this.#flat = [];
    for (const done of this.#waiting.values()) done();
    this.#waiting.clear();
  }
}
