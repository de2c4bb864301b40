import type { Attributes } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import type { LiteSpan, SpanSink } from './lite-tracer.js';
import { exportDocument, spanJson } from './otlp-json.js';

export interface ExportOptions {
  url: string;
  resource: Attributes;
  /** As the SDK's BatchSpanProcessor: spans per export, most spans waiting, export interval. */
  batch: { maxExportBatchSize: number; maxQueueSize: number; scheduledDelayMillis: number };
  /** Spans lost: an export the collector did not take (after retries), or a full queue. */
  onDropped?: (spans: number, reason: 'export_failed' | 'queue_full') => void;
}

/** Bytes of one buffer of written spans: a few hundred spans. */
const CHUNK = 256 * 1024;

/** `ExportResultCode.SUCCESS` (@opentelemetry/core, which this package does not depend on directly). */
const EXPORT_SUCCESS = 0;

/** Export bodies are a few MB (4,096 spans of ~600 bytes): sizes are rounded up to this, so one kept body fits the next. */
const BODY_GRAIN = 1024 * 1024;

/** One scope's spans in this batch, as comma-separated JSON text in buffers outside the JS heap. */
interface ScopeText {
  /** Filled buffers and how much of each is text. */
  chunks: Array<{ buffer: Buffer; length: number }>;
  open: Buffer;
  at: number;
  spans: number;
}

/** A batch ready to send: the whole export request, and how many spans it holds. */
interface Batch {
  body: Buffer;
  spans: number;
}

/**
 * Buffers outside the heap, kept for reuse. V8 counts each new one as external memory: a fresh
 * 256 KB chunk every few hundred spans and a new body per batch made it run a full mark-compact
 * about once a second under load (item reads, `--trace-gc`), twice as often as without tracing,
 * and free them on its helper threads.
 */
class BufferPool {
  readonly #free: Buffer[] = [];

  constructor(private readonly keep: number) {}

  /** A kept buffer of at least `size` bytes, or a new one of `size` rounded up to `grain`. */
  take(size: number, grain: number): Buffer {
    for (let i = this.#free.length - 1; i >= 0; i--) if (this.#free[i]!.length >= size) return this.#free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.ceil(size / grain) * grain);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < this.keep) this.#free.push(buffer);
  }
}

/**
 * Writes each span as OTLP/JSON text the moment it ends, into buffers outside the JavaScript
 * heap, and sends a batch (OTLP/HTTP, with otlp-exporter-base's retries, timeout and the
 * OTEL_EXPORTER_OTLP_[TRACES_]HEADERS variables) every `maxExportBatchSize` spans or
 * `scheduledDelayMillis`. A span object then dies young, with its request, and costs the
 * collector nothing later: kept as objects until a batch was sent (the SDK's processor kept them
 * for seconds), or posted to a worker thread, they cost more CPU in garbage collection and in the
 * worker than writing them here (measured on item reads: see docs/scale.md). At most
 * `maxQueueSize` spans wait or are being sent; past that new ones are dropped, as the SDK's
 * processor drops them.
 */
export class SpanExporter implements SpanSink {
  readonly #exporter: OTLPExporterBase<Batch>;
  readonly #opts: ExportOptions;
  #scopes = new Map<string, ScopeText>();
  /** Chunks for a full batch of typical spans, and two bodies: ~6 MB kept at most. */
  readonly #chunks = new BufferPool(16);
  readonly #bodies = new BufferPool(2);
  #waiting = 0;
  #sending = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #sent = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: ExportOptions) {
    this.#opts = opts;
    this.#exporter = new OTLPExporterBase(
      createOtlpHttpExportDelegate(
        // One export at a time is in flight per `maxExportBatchSize` the queue may hold.
        convertLegacyHttpOptions(
          { url: opts.url, concurrencyLimit: Math.max(1, Math.ceil(opts.batch.maxQueueSize / opts.batch.maxExportBatchSize)) },
          'TRACES',
          'v1/traces',
          { 'Content-Type': 'application/json' },
        ),
        { serializeRequest: (batch: Batch) => batch.body, deserializeResponse: () => ({}) },
        'otlp_http_span_exporter',
        { name: 'span', countItems: (batch: Batch) => batch.spans },
        undefined,
      ),
    );
  }

  onEnd(span: LiteSpan): void {
    if (this.#closed) return;
    if (this.#waiting + this.#sending >= this.#opts.batch.maxQueueSize) {
      this.#opts.onDropped?.(1, 'queue_full');
      return;
    }
    const text = spanJson(span);
    let scope = this.#scopes.get(span.scope);
    if (!scope) this.#scopes.set(span.scope, (scope = { chunks: [], open: this.#chunks.take(CHUNK, CHUNK), at: 0, spans: 0 }));
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a span too large for a fresh chunk gets its own.
    const room = text.length * 3 + 1;
    if (scope.at + room > scope.open.length) {
      if (scope.at) scope.chunks.push({ buffer: scope.open, length: scope.at });
      else this.#chunks.give(scope.open);
      scope.open = this.#chunks.take(room, CHUNK);
      scope.at = 0;
    }
    if (scope.spans++) scope.at += scope.open.write(',', scope.at, 'latin1');
    scope.at += scope.open.write(text, scope.at, 'utf8');
    if (++this.#waiting >= this.#opts.batch.maxExportBatchSize) this.#send();
    else this.#timer ??= setTimeout(this.#send, this.#opts.batch.scheduledDelayMillis).unref();
  }

  /** Sends what waits and resolves once every batch sent so far was answered (or failed). */
  async forceFlush(): Promise<void> {
    this.#send();
    await Promise.all(this.#sent);
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    await this.forceFlush();
    this.#closed = true;
    await this.#exporter.shutdown().catch(() => {});
  }

  readonly #send = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#waiting) return;
    const scopes = new Map<string, Buffer[]>();
    for (const [name, s] of this.#scopes) if (s.spans) scopes.set(name, [...s.chunks.map((c) => c.buffer.subarray(0, c.length)), s.open.subarray(0, s.at)]);
    let full: Buffer | undefined;
    const body = exportDocument(this.#opts.resource, scopes, (size) => (full = this.#bodies.take(size, BODY_GRAIN)));
    // The text is in the body now: its chunks are free again.
    for (const s of this.#scopes.values()) {
      for (const c of s.chunks) this.#chunks.give(c.buffer);
      this.#chunks.give(s.open);
    }
    const batch = { body, spans: this.#waiting };
    this.#scopes = new Map();
    this.#sending += batch.spans;
    this.#waiting = 0;
    // A failed export is dropped, as the SDK's processor drops it (the delegate has retried). Its
    // body is not reused: after a timeout the request may still be writing it.
    const sent = new Promise<void>((resolve) =>
      this.#exporter.export(batch, (result) => {
        if (result.code === EXPORT_SUCCESS) this.#bodies.give(full!);
        else this.#opts.onDropped?.(batch.spans, 'export_failed');
        resolve();
      }),
    ).finally(() => {
      this.#sending -= batch.spans;
      this.#sent.delete(sent);
    });
    this.#sent.add(sent);
  };
}
