import { Ollama, type AbortableAsyncIterator, type ChatResponse, type Message } from 'ollama';
import { MODEL_DEADLINES_DEFAULT } from './config.js';
import { ModelTimeoutError, NoModelError } from './errors.js';

/**
 * Tokens kept for the answer: the prompt is fitted to `num_ctx` minus this, and the answer is
 * capped at it (`num_predict`). Without the cap llama-server shifts the context once the answer
 * outgrows the reserve, silently dropping the system rules and first sources (context shift is
 * on with `num_keep` 4, and Ollama only stops open-ended answers after 10 x num_ctx tokens:
 * ollama v0.32.15 llm/llama_server.go, boundedNumPredict and appendContextShiftArgs).
 */
export const ANSWER_TOKENS = 1024;

/** The model options sent on every request to a sandbox, the preload included. */
export interface ModelOptions {
  numCtx: number;
  /** Default {@link ANSWER_TOKENS}. */
  numPredict?: number;
}

/**
 * Ollama's `options` for {@link ModelOptions}. The preload must send exactly these: the scheduler
 * reloads a model whose `num_ctx` differs from the loaded one (server/sched.go), and a preload
 * without `num_ctx` loads it with the automatic VRAM-sized context (up to the model's trained
 * length, with a KV cache to match).
 */
export function modelOptions(opts: ModelOptions): { num_ctx: number; num_predict: number } {
  return { num_ctx: opts.numCtx, num_predict: opts.numPredict ?? ANSWER_TOKENS };
}

/**
 * How long a sandbox's model may stay silent before its request is cut with
 * {@link ModelTimeoutError}. Ollama itself never gives up on a stuck runner, and neither does a
 * browser: without these a hung model holds its sandbox lease, and the user waits, for ever.
 */
export interface ModelDeadlines {
  /** Until an answer's first token, or an embedding's answer: loading the model included. */
  firstTokenMs: number;
  /** Between two tokens of an answer. */
  idleMs: number;
}

/**
 * A signal that aborts with {@link ModelTimeoutError} when the deadline set last by `arm` passes;
 * `disarm` while the model is not the one being waited for (the caller holds a token).
 */
export function silenceWatch(deadlines: ModelDeadlines): { signal: AbortSignal; arm(phase: 'first' | 'idle'): void; disarm(): void } {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => clearTimeout(timer);
  return {
    signal: ac.signal,
    arm(phase) {
      disarm();
      const ms = phase === 'first' ? deadlines.firstTokenMs : deadlines.idleMs;
      timer = setTimeout(() => ac.abort(new ModelTimeoutError(phase, ms)), ms);
    },
    disarm,
  };
}

/** Aborts a fetch on any of the signals, the client library's own (`init.signal`) included. */
export function fetchWith(...signals: Array<AbortSignal | undefined>): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.any([init?.signal, ...signals].filter((s): s is AbortSignal => s !== undefined)) });
}

/** A chat message as Ollama's `/api/chat` takes it. */
export type ChatMessage = Pick<Message, 'role' | 'content'>;

/** The final record of a stream: why it stopped and how many tokens went in and out. */
export interface ChatDone {
  doneReason?: string;
  promptEvalCount?: number;
  evalCount?: number;
  totalDurationNs?: number;
}

/** Arguments of {@link streamChat}. */
export interface StreamChatOptions {
  /** The sandbox's address, e.g. `lease.baseUrl`. */
  baseUrl: string;
  model: string;
  messages: ChatMessage[];
  /** Sent as `options.num_ctx` on every request: Ollama's small default silently truncates prompts. */
  numCtx: number;
  /** Sent as `options.num_predict` (default {@link ANSWER_TOKENS}); reaching it ends with `doneReason: 'length'`. */
  numPredict?: number;
  /** Aborting closes the HTTP connection, which makes Ollama stop generating. */
  signal?: AbortSignal;
  /** Default {@link MODEL_DEADLINES_DEFAULT}; passing one closes the connection too. */
  deadlines?: ModelDeadlines;
  /** Called once with the final record's statistics (`doneReason: 'length'` = answer cut off). */
  onDone?: (done: ChatDone) => void;
  /** Sampling options merged under `num_ctx` (e.g. temperature). */
  options?: Record<string, number>;
}

/**
 * Streams the assistant's answer token by token from Ollama's native `/api/chat` (NDJSON) through
 * the `ollama` client. Stopping early, by `signal` or by leaving the `for await` loop, aborts the
 * request so generation stops in the sandbox. Rejects with the signal's reason when aborted, with
 * {@link ModelTimeoutError} when the model is silent past a deadline, and with an Error when Ollama
 * answers an error status or an `{"error":...}` line mid-stream.
 */
export async function* streamChat(opts: StreamChatOptions): AsyncGenerator<string, void, undefined> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const watch = silenceWatch(opts.deadlines ?? MODEL_DEADLINES_DEFAULT);
  const client = new Ollama({
    host: opts.baseUrl,
    // The client only offers abort() once the response headers arrived; passing the signals to
    // fetch also covers the connect, the model load and the queueing inside Ollama.
    fetch: fetchWith(signal, watch.signal),
  });
  let iterator: AbortableAsyncIterator<ChatResponse> | undefined;
  const onAbort = () => iterator?.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  watch.signal.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    watch.arm('first');
    iterator = await client.chat({
      model: opts.model,
      messages: opts.messages,
      stream: true,
      options: { ...opts.options, ...modelOptions(opts) },
      // Unset, Ollama turns thinking on for models that can (server/routes.go, ChatHandler) and
      // the answer goes to `message.thinking`, which is not shown: the chat would look silent.
      think: false,
    });
    for await (const part of iterator) {
      // Only Ollama's silence counts, not the time the consumer takes with a token.
      watch.disarm();
      if (part.message?.content) yield part.message.content;
      watch.arm('idle');
      if (part.done) {
        finished = true;
        opts.onDone?.({
          doneReason: part.done_reason,
          promptEvalCount: part.prompt_eval_count,
          evalCount: part.eval_count,
          totalDurationNs: part.total_duration,
        });
      }
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (watch.signal.aborted) throw watch.signal.reason;
    throw err;
  } finally {
    watch.disarm();
    signal?.removeEventListener('abort', onAbort);
    watch.signal.removeEventListener('abort', onAbort);
    // Reached when the consumer stops early (return()/throw()): cut the connection.
    if (!finished) iterator?.abort();
  }
}

/** Whether an Ollama answers `GET /api/version` within `timeoutMs` (never throws). */
export async function ollamaHealthy(baseUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/api/version', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Polls {@link ollamaHealthy} until it answers or `timeoutMs` passes; resolves to whether it did. */
export async function waitForOllama(baseUrl: string, timeoutMs: number, intervalMs = 100, isAlive?: () => Promise<boolean>): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  let polls = 0;
  while (Date.now() < until) {
    if (await ollamaHealthy(baseUrl, Math.min(1000, Math.max(50, until - Date.now())))) return true;
    // Checking the container itself every few polls stops waiting on one that already died.
    if (isAlive && ++polls % 10 === 0 && !(await isAlive())) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

/**
 * Loads `model` into memory and keeps it there (`keep_alive: -1`) by sending a generate request
 * without a prompt, which Ollama treats as "load only", with the same options as every chat so
 * the first question does not load it again. Throws {@link NoModelError} when Ollama answers 404
 * (`model '<name>' not found`, server/routes.go GenerateHandler), an Error on other failures.
 */
export async function preloadModel(baseUrl: string, model: string, options: ModelOptions, timeoutMs = 300_000): Promise<void> {
  const res = await fetch(new URL('/api/generate', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, keep_alive: -1, stream: false, think: false, options: modelOptions(options) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status === 404) throw new NoModelError(model);
  if (!res.ok) throw new Error(`preload of ${model} failed: ${res.status} ${text.slice(0, 200)}`);
}
