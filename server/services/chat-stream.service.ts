import { ModelTimeoutError } from '../../sandbox/errors.js';
import { streamChat } from '../../sandbox/ollama.js';
import type { Lease } from '../../sandbox/pool.js';
import { unavailable, unprocessable, type AppError } from '../errors.js';
import { markError, tracer } from '../metrics/tracing.js';
import type { ChatService, PreparedChat } from './chat.service.js';
import type { SessionContext } from './keyring.js';
import { isSessionEnded, type SessionWork } from './session-work.js';
import type { TurnLease } from './turn-lease.js';

/** One server-sent event of an answer, in the order the client receives them. */
export type ChatEvent =
  | { event: 'sources'; data: { sources: PreparedChat['sources']; context: PreparedChat['context'] } }
  | { event: 'token'; data: { text: string } }
  | { event: 'done'; data: NonNullable<Awaited<ReturnType<ChatService['save']>>> & { cutOff?: true } }
  | { event: 'error'; data: { code: 'ai_error' | 'ai_timeout' | 'session_ended' | 'invalid_token'; message: string } };

/** Pino-shaped: the request's logger, so failures carry the request id. */
interface StreamLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface StreamOptions {
  /**
   * Aborted when the client goes away (Stop): generation in the sandbox stops, the partial answer
   * is saved; or when the session or token is revoked (a SessionEndedError): nothing is saved.
   */
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
  constructor(
    private readonly chat: ChatService,
    private readonly work?: SessionWork,
  ) {}

  /**
   * A turn's cancellation: `signal` aborts when the route calls `stop` (the client went away) or
   * when the session or token is revoked, here or on another instance; `end` when the turn is over.
   */
  begin(session: SessionContext): { signal: AbortSignal; stop(reason: Error): void; end(): void } {
    const abort = new AbortController();
    const untrack = this.work?.track(session, abort) ?? (() => {});
    return { signal: abort.signal, stop: (reason) => abort.abort(reason), end: untrack };
  }

  /**
   * Takes a sandbox lease first (the turn's, when embedding the question already took it), then
   * starts the model and waits for its first token, so that no runtime, a saturated pool, a bad
   * request, a model the runtime does not have (422 `model_not_found`), an Ollama that does not
   * answer (503 `ai_offline`) or a model silent past its deadline (503 `ai_timeout`) are ordinary
   * JSON errors (with a status) before any event is written; then returns the events.
   */
  async open(session: SessionContext, prepared: PreparedChat, opts: StreamOptions): Promise<AsyncGenerator<ChatEvent, void>> {
    let lease: Lease;
    try {
      lease = await opts.lease.handOn();
    } catch (err) {
      // Embedding the question found the model stuck, and gave its sandbox back (PoolEmbedder).
      if (!(err instanceof ModelTimeoutError)) throw err;
      throw timedOut(err, opts.log);
    }
    const turn = new Turn(this.chat, session, prepared, lease, opts);
    let first: IteratorResult<string, void>;
    try {
      first = await turn.tokens.next();
    } catch (err) {
      const refused = await turn.refuse(err);
      if (refused) throw refused;
      return turn.failed(err);
    }
    return turn.events(first);
  }
}

/** A model silent past its deadline before the answer started: a stuck or starved Ollama, like one that does not answer. */
function timedOut(err: ModelTimeoutError, log: StreamLog): AppError {
  log.warn({ err }, 'the model did not answer in time');
  return unavailable(`The AI did not answer within ${Math.ceil(err.timeoutMs / 1000)} s. Try again in a moment.`, 'ai_timeout', 10);
}

/** One answer in progress: its token source, metrics, span and lease, released exactly once. */
class Turn {
  readonly tokens: AsyncGenerator<string, void, undefined>;
  #answer = '';
  #cutOff = false;
  readonly #span: ReturnType<ReturnType<typeof tracer>['startSpan']>;
  #firstTokenAt: number | undefined;
  #lastTokenAt = 0;
  #chunks = 0;
  #evalCount: number | undefined;
  #observed = false;
  #released = false;

  constructor(
    private readonly chat: ChatService,
    private readonly session: SessionContext,
    private readonly prepared: PreparedChat,
    private readonly lease: Lease,
    private readonly opts: StreamOptions,
  ) {
    // Metrics and the model call's span: counts and timings only, never the text.
    this.#span = tracer().startSpan('model.chat', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': prepared.model } });
    this.tokens = streamChat({
      baseUrl: lease.baseUrl,
      model: prepared.model,
      messages: prepared.messages,
      numCtx: chat.opts.numCtx,
      signal: opts.signal,
      deadlines: lease.deadlines,
      // `length`: the answer reached num_predict (the reserve) and was cut there.
      onDone: (d) => {
        this.#cutOff = d.doneReason === 'length';
        this.#evalCount = d.evalCount;
        if (d.promptEvalCount !== undefined) this.#span.setAttribute('gen_ai.usage.input_tokens', d.promptEvalCount);
        if (d.evalCount !== undefined) this.#span.setAttribute('gen_ai.usage.output_tokens', d.evalCount);
        if (d.doneReason) this.#span.setAttribute('gen_ai.response.finish_reasons', [d.doneReason]);
      },
    });
  }

  #modelEnded(outcome: 'done' | 'cut_off' | 'stopped' | 'error', err?: unknown): void {
    if (this.#observed) return;
    this.#observed = true;
    const first = this.#firstTokenAt;
    this.chat.opts.metrics?.answered(
      this.#modelLabel(),
      outcome,
      first === undefined ? undefined : { tokens: this.#evalCount ?? this.#chunks, seconds: (this.#lastTokenAt - first) / 1000 },
    );
    if (err !== undefined) markError(this.#span, err);
    this.#span.end();
  }

  /**
   * The model as a metrics label: only a name the runtime served (it sent a token) or the server's
   * default; a name a user typed that the runtime refused (or never got to) is no label of its own.
   */
  #modelLabel(): string | undefined {
    return this.#firstTokenAt !== undefined || this.prepared.defaultModel ? this.prepared.model : undefined;
  }

  #release(how: { cancelled?: boolean; error?: boolean } = {}): void {
    if (this.#released) return;
    this.#released = true;
    this.lease.release(how);
  }

  #token(text: string): ChatEvent {
    this.#lastTokenAt = performance.now();
    if (this.#firstTokenAt === undefined) {
      this.#firstTokenAt = this.#lastTokenAt;
      this.chat.opts.metrics?.firstToken(this.prepared.model, this.opts.elapsedSeconds());
    }
    this.#chunks++;
    this.#answer += text;
    return { event: 'token', data: { text } };
  }

  /** The session or token was revoked: nothing more may be written with its keys. */
  get #revoked(): boolean {
    return this.opts.signal.aborted && isSessionEnded(this.opts.signal.reason);
  }

  #ended(): ChatEvent {
    const reason = this.opts.signal.reason as { code: 'session_ended' | 'invalid_token'; message: string };
    return { event: 'error', data: { code: reason.code, message: reason.message } };
  }

  /** Saves what was answered when the client went away (Stop); a deleted chat has nothing to keep. */
  async #saveStopped(): Promise<void> {
    await this.chat
      .save(this.session, this.prepared, this.#answer, { stopped: true })
      .catch((e) => this.opts.log.error({ err: e }, 'saving a stopped chat failed'));
  }

  /**
   * Before the first token: the error as a response, when it is one the client should get
   * instead of a stream (the client left, the model is missing, Ollama does not answer or not
   * in time);
   * undefined for a failure of the model itself, which the stream reports as `ai_error`.
   */
  async refuse(err: unknown): Promise<Error | undefined> {
    // Stopped before the first token: nothing of the turn is kept (no empty chat), as when the
    // client left while queued for a sandbox, or the model failed before answering.
    if (this.opts.signal.aborted) {
      this.#release({ cancelled: true });
      this.#modelEnded('stopped');
      return this.opts.signal.reason instanceof Error ? this.opts.signal.reason : new Error('client went away');
    }
    // Ollama's 404 `model '<name>' not found` (server/routes.go ChatHandler): the sandbox is fine.
    if ((err as { status_code?: unknown }).status_code === 404) {
      this.#release();
      this.#modelEnded('error', err);
      return unprocessable(`${this.prepared.model} is not installed on this server; pull it first (Settings -> Models).`, 'model_not_found');
    }
    // Ollama's 400 `"<name>" does not support chat`: an embedding model picked for a chat.
    if ((err as { status_code?: unknown }).status_code === 400 && /does not support chat/.test((err as Error).message)) {
      this.#release();
      this.#modelEnded('error', err);
      return unprocessable(`${this.prepared.model} is an embedding model: it cannot answer chats. Choose a chat model.`, 'wrong_model_kind');
    }
    // The request was cut: the container is stuck, and nothing was streamed to keep.
    if (err instanceof ModelTimeoutError) {
      this.#release({ error: true });
      this.#modelEnded('error', err);
      return timedOut(err, this.opts.log);
    }
    // fetch's TypeError: nothing answered at the sandbox's address (refused, reset, unreachable).
    if (err instanceof TypeError) {
      this.#release({ error: true });
      this.#modelEnded('error', err);
      this.opts.log.warn({ err }, 'the model runtime did not answer');
      return unavailable('The AI is offline.', 'ai_offline', 10);
    }
    return undefined;
  }

  /** The stream of a model call that failed before its first token: the sources, then `ai_error`. */
  async *failed(err: unknown): AsyncGenerator<ChatEvent, void> {
    this.#release({ error: true });
    this.#modelEnded('error', err);
    this.opts.log.error({ err }, 'chat generation failed');
    yield { event: 'sources', data: { sources: this.prepared.sources, context: this.prepared.context } };
    yield { event: 'error', data: { code: 'ai_error', message: 'The AI stopped with an error. Try again.' } };
  }

  async *events(first: IteratorResult<string, void>): AsyncGenerator<ChatEvent, void> {
    const { signal } = this.opts;
    try {
      yield { event: 'sources', data: { sources: this.prepared.sources, context: this.prepared.context } };
      for (let r = first; !r.done; r = await this.tokens.next()) yield this.#token(r.value);
      this.#release();
      this.#modelEnded(this.#cutOff ? 'cut_off' : 'done');
      // Revoked after the last token: the answer is complete, but not to be kept.
      if (this.#revoked) {
        yield this.#ended();
        return;
      }
      const saved = await this.chat.save(this.session, this.prepared, this.#answer, this.#cutOff ? { cutOff: true } : {});
      // Deleted while it was answering: the chat is gone, and so is the answer; nothing failed.
      if (!saved) {
        this.opts.log.info({ chatId: this.prepared.chatId }, 'chat deleted while it was answering; the answer was not kept');
        return;
      }
      yield { event: 'done', data: this.#cutOff ? { ...saved, cutOff: true } : saved };
    } catch (err) {
      // Cancelled: the client went away while the model was still answering.
      const cancelled = signal.aborted && !this.#released;
      this.#release(cancelled ? { cancelled: true } : { error: true });
      this.#modelEnded(cancelled ? 'stopped' : 'error', cancelled ? undefined : err);
      if (cancelled && this.#revoked) {
        yield this.#ended();
      } else if (cancelled) {
        await this.#saveStopped();
      } else {
        const silent = err instanceof ModelTimeoutError;
        if (silent) this.opts.log.warn({ err }, 'the model stopped answering');
        else this.opts.log.error({ err }, 'chat generation failed');
        // The question and what was answered before the failure are kept, as a stopped answer,
        // so the chat shows them and Regenerate has a question. A regenerated answer that failed
        // leaves the one it was to replace.
        if (!this.prepared.replaces && !this.#revoked) await this.#saveStopped();
        yield {
          event: 'error',
          data: silent
            ? { code: 'ai_timeout', message: 'The AI stopped answering. Try again.' }
            : { code: 'ai_error', message: 'The AI stopped with an error. Try again.' },
        };
      }
    } finally {
      // A consumer that stops early (return()) must not keep the sandbox leased.
      if (!this.#released) {
        this.#release({ cancelled: true });
        this.#modelEnded('stopped');
      }
      // Leaving the loop early (return()) must end the model call as well.
      await this.tokens.return();
    }
  }
}
