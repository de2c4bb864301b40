import { Ollama } from 'ollama';
import { MODEL_DEADLINES_DEFAULT } from './config.js';
import { NoModelError } from './errors.js';
import { fetchWith, silenceWatch } from './ollama.js';

/** Inputs per request: Ollama batches them through the model; more only lengthens one request. */
export const EMBED_BATCH = 32;

/**
 * Embeds texts with Ollama's `POST /api/embed` ({ model, input: string[] } → { embeddings }),
 * inside the owner's sandbox, the only place their plaintext may go. `truncate` lets Ollama cut
 * an input longer than the model's context instead of failing the batch. Throws
 * {@link NoModelError} when the model is not there (Ollama answers 404 `model "x" not found`),
 * and ModelTimeoutError when no answer came within `timeoutMs`: an embedding comes in one piece,
 * so the whole request is bounded as an answer's first token is, the model's load included.
 */
export async function embedTexts(
  baseUrl: string,
  model: string,
  input: string[],
  signal?: AbortSignal,
  timeoutMs: number = MODEL_DEADLINES_DEFAULT.firstTokenMs,
): Promise<number[][]> {
  if (input.length === 0) return [];
  const watch = silenceWatch({ firstTokenMs: timeoutMs, idleMs: timeoutMs });
  const client = new Ollama({ host: baseUrl, fetch: fetchWith(signal, watch.signal) });
  try {
    watch.arm('first');
    const res = await client.embed({ model, input, truncate: true });
    if (!Array.isArray(res.embeddings) || res.embeddings.length !== input.length) {
      throw new Error(`embed answered ${res.embeddings?.length ?? 0} vectors for ${input.length} inputs`);
    }
    return res.embeddings;
  } catch (err) {
    if (watch.signal.aborted) throw watch.signal.reason;
    if ((err as { status_code?: number }).status_code === 404) throw new NoModelError(model);
    throw err;
  } finally {
    watch.disarm();
  }
}
