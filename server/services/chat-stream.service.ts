import { streamChat } from '../../sandbox/ollama.js';
import type { Lease } from '../../sandbox/pool.js';
import { markError, tracer } from '../metrics/tracing.js';
import type { ChatService, PreparedChat } from './chat.service.js';
import type { SessionContext } from './keyring.js';
import type { TurnLease } from './turn-lease.js';

/** One server-sent event of an answer, in the order the client receives them. */
export type ChatEvent =
  | { event: 'sources'; data: { sources: PreparedChat['sources']; context: PreparedChat['context'] } }
  | { event: 'token'; data: { text: string } }
  | { event: 'done'; data: Awaited<ReturnType<ChatService['save']>> & { cutOff?: true } }
  | { event: 'error'; data: { code: 'ai_error'; message: string } };

/** Pino-shaped: the request's logger, so failures carry the request id. */
interface StreamLog {
  error(obj: object, msg: string): void;
}

export interface StreamOptions {
  /** Aborted when the client goes away (Stop): generation in the sandbox stops, the partial answer is saved. */
  signal: AbortSignal;
  /** Seconds since the request arrived, for the time-to-first-token metric. */
  elapsedSeconds: () => number;
  log: StreamLog;
  /** The turn's lease, which a step before the answer may already hold (see TurnLease). */
  lease: TurnLease;
}

/**
 * An answer as a stream of events: the model call on a sandbox lease, its metrics and span, the
 * lease's release (marked cancelled or failed), and the chat saved, a stopped one included. The
 * route only writes the events as SSE.
 */
export class ChatStreamService {
  constructor(private readonly chat: ChatService) {}

  /**
   * Takes a sandbox lease first (the turn's, when embedding the question already took it), so
   * that no runtime, a saturated pool or a bad request are ordinary JSON errors (with a status)
   * before any event is written; then returns the events.
   */
  async open(session: SessionContext, prepared: PreparedChat, opts: StreamOptions): Promise<AsyncGenerator<ChatEvent, void>> {
    const lease = await opts.lease.handOn();
    return this.#answer(session, prepared, lease, opts);
  }

  async *#answer(session: SessionContext, prepared: PreparedChat, lease: Lease, opts: StreamOptions): AsyncGenerator<ChatEvent, void> {
    const { signal } = opts;
    yield { event: 'sources', data: { sources: prepared.sources, context: prepared.context } };
    let answer = '';
    let cutOff = false;
    // Metrics and the model call's span: counts and timings only, never the text.
    const metrics = this.chat.opts.metrics;
    const span = tracer().startSpan('model.chat', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': prepared.model } });
    let firstTokenAt: number | undefined;
    let lastTokenAt = 0;
    let chunks = 0;
    let evalCount: number | undefined;
    let observed = false;
    const modelEnded = (outcome: 'done' | 'cut_off' | 'stopped' | 'error', err?: unknown) => {
      if (observed) return;
      observed = true;
      metrics?.answered(
        prepared.model,
        outcome,
        firstTokenAt === undefined ? undefined : { tokens: evalCount ?? chunks, seconds: (lastTokenAt - firstTokenAt) / 1000 },
      );
      if (err !== undefined) markError(span, err);
      span.end();
    };
    let released = false;
    try {
      for await (const text of streamChat({
        baseUrl: lease.baseUrl,
        model: prepared.model,
        messages: prepared.messages,
        numCtx: this.chat.opts.numCtx,
        signal,
        // `length`: the answer reached num_predict (the reserve) and was cut there.
        onDone: (d) => {
          cutOff = d.doneReason === 'length';
          evalCount = d.evalCount;
          if (d.promptEvalCount !== undefined) span.setAttribute('gen_ai.usage.input_tokens', d.promptEvalCount);
          if (d.evalCount !== undefined) span.setAttribute('gen_ai.usage.output_tokens', d.evalCount);
          if (d.doneReason) span.setAttribute('gen_ai.response.finish_reasons', [d.doneReason]);
        },
      })) {
        lastTokenAt = performance.now();
        if (firstTokenAt === undefined) {
          firstTokenAt = lastTokenAt;
          metrics?.firstToken(prepared.model, opts.elapsedSeconds());
        }
        chunks++;
        answer += text;
        yield { event: 'token', data: { text } };
      }
      released = true;
      lease.release();
      modelEnded(cutOff ? 'cut_off' : 'done');
      const saved = await this.chat.save(session, prepared, answer, cutOff ? { cutOff } : {});
      yield { event: 'done', data: cutOff ? { ...saved, cutOff: true } : saved };
    } catch (err) {
      // Cancelled: the client went away while the model was still answering.
      const cancelled = signal.aborted && !released;
      if (!released) {
        released = true;
        lease.release(cancelled ? { cancelled: true } : { error: true });
      }
      modelEnded(cancelled ? 'stopped' : 'error', cancelled ? undefined : err);
      if (cancelled) {
        await this.chat.save(session, prepared, answer, { stopped: true }).catch((e) => opts.log.error({ err: e }, 'saving a stopped chat failed'));
      } else {
        opts.log.error({ err }, 'chat generation failed');
        yield { event: 'error', data: { code: 'ai_error', message: 'The AI stopped with an error. Try again.' } };
      }
    } finally {
      // A consumer that stops early (return()) must not keep the sandbox leased.
      if (!released) {
        lease.release({ cancelled: true });
        modelEnded('stopped');
      }
    }
  }
}
