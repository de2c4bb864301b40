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
}

/** Bytes of one buffer of written spans: a few hundred spans. */
const CHUNK = 256 * 1024;

/** One scope's spans in this batch, as comma-separated JSON text in buffers outside the JS heap. */
interface ScopeText {
  chunks: Buffer[];
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
    if (this.#closed || this.#waiting + this.#sending >= this.#opts.batch.maxQueueSize) return;
    const text = spanJson(span);
    let scope = this.#scopes.get(span.scope);
    if (!scope) this.#scopes.set(span.scope, (scope = { chunks: [], open: Buffer.allocUnsafe(CHUNK), at: 0, spans: 0 }));
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a span too large for a fresh chunk gets its own.
    const room = text.length * 3 + 1;
    if (scope.at + room > scope.open.length) {
      if (scope.at) scope.chunks.push(scope.open.subarray(0, scope.at));
      scope.open = Buffer.allocUnsafe(Math.max(CHUNK, room));
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
    for (const [name, s] of this.#scopes) if (s.spans) scopes.set(name, s.at ? [...s.chunks, s.open.subarray(0, s.at)] : s.chunks);
    const batch = { body: exportDocument(this.#opts.resource, scopes), spans: this.#waiting };
    this.#scopes = new Map();
    this.#sending += batch.spans;
    this.#waiting = 0;
    // A failed export is dropped, as the SDK's processor drops it (the delegate has retried).
    const sent = new Promise<void>((resolve) => this.#exporter.export(batch, () => resolve())).finally(() => {
      this.#sending -= batch.spans;
      this.#sent.delete(sent);
    });
    this.#sent.add(sent);
  };
}
