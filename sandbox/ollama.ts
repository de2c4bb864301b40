import { Ollama, type AbortableAsyncIterator, type ChatResponse, type Message } from 'ollama';

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
  /** Aborting closes the HTTP connection, which makes Ollama stop generating. */
  signal?: AbortSignal;
  /** Called once with the final record's statistics (`doneReason: 'length'` = answer cut off). */
  onDone?: (done: ChatDone) => void;
  /** Sampling options merged under `num_ctx` (e.g. temperature). */
  options?: Record<string, number>;
}

/**
 * Streams the assistant's answer token by token from Ollama's native `/api/chat` (NDJSON) through
 * the `ollama` client. Stopping early, by `signal` or by leaving the `for await` loop, aborts the
 * request so generation stops in the sandbox. Rejects with the signal's reason when aborted and
 * with an Error when Ollama answers an error status or an `{"error":...}` line mid-stream.
 */
export async function* streamChat(opts: StreamChatOptions): AsyncGenerator<string, void, undefined> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const client = new Ollama({
    host: opts.baseUrl,
    // The client only offers abort() once the response headers arrived; passing the caller's
    // signal to fetch also covers the connect and queueing phase inside Ollama.
    fetch: (input, init) => fetch(input, { ...init, signal: signal && init?.signal ? AbortSignal.any([signal, init.signal]) : (signal ?? init?.signal) }),
  });
  let iterator: AbortableAsyncIterator<ChatResponse> | undefined;
  const onAbort = () => iterator?.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    iterator = await client.chat({
      model: opts.model,
      messages: opts.messages,
      stream: true,
      options: { ...opts.options, num_ctx: opts.numCtx },
    });
    for await (const part of iterator) {
      if (part.message?.content) yield part.message.content;
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
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
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
 * without a prompt, which Ollama treats as "load only". Throws on an error answer (model missing).
 */
export async function preloadModel(baseUrl: string, model: string, timeoutMs = 300_000): Promise<void> {
  const res = await fetch(new URL('/api/generate', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, keep_alive: -1, stream: false }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`preload of ${model} failed: ${res.status} ${text.slice(0, 200)}`);
}
