/**
 * Token estimates without a tokenizer. The model is whatever the self-hoster pulled, so no one
 * vocabulary is right; the estimate is deliberately pessimistic instead. Overestimating costs a
 * little context; underestimating is worse: Ollama silently drops the start of a prompt that
 * exceeds `num_ctx`, which removes the system rules and the first (best) sources without any
 * error, and the model then "ignores" the vault.
 */

/**
 * Cost units per character class; tokens = ceil(units / UNITS_PER_TOKEN). Integer units keep
 * the estimate exactly additive, so a prompt assembled from parts never costs more than the
 * sum of its parts' estimates.
 *
 * - ASCII letters and spaces: 2/7 token (3.5 characters per token; English prose averages
 *   about 4 with current vocabularies, 3.7 with the older 32k ones).
 * - Digits, punctuation, newlines and other ASCII: 1 token each (Llama 2, Mistral, Gemma and
 *   Qwen split numbers into single digits; health data is full of numbers).
 * - Other BMP characters (accents, Cyrillic, CJK): 1 token each; astral ones (emoji): 3, since
 *   byte-fallback vocabularies spell them as UTF-8 bytes.
 */
const UNITS_PER_TOKEN = 7;
const LETTER_UNITS = 2;
const SYMBOL_UNITS = 7;
const ASTRAL_UNITS = 21;

/** Chat-template tokens around each message (role header, separators, end-of-turn). */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** Template tokens for the whole request (BOS, the assistant header the answer starts with). */
export const PROMPT_OVERHEAD_TOKENS = 8;

function charUnits(code: number): number {
  if (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    code === 32
  ) {
    return LETTER_UNITS;
  }
  if (code < 128) return SYMBOL_UNITS;
  if (code >= 0xdc00 && code <= 0xdfff) return 0; // second half of a pair, counted with the first
  if (code >= 0xd800 && code <= 0xdbff) return ASTRAL_UNITS;
  return SYMBOL_UNITS;
}

function textUnits(text: string): number {
  let units = 0;
  for (let i = 0; i < text.length; i++) units += charUnits(text.charCodeAt(i));
  return units;
}

/** Estimated tokens for a piece of text (never below the real count for common models). */
export function estimateTokens(text: string): number {
  return Math.ceil(textUnits(text) / UNITS_PER_TOKEN);
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Estimated tokens for a whole request, template overhead included. */
export function estimateMessagesTokens(messages: ReadonlyArray<{ content: string }>): number {
  let total = PROMPT_OVERHEAD_TOKENS;
  for (const m of messages) total += MESSAGE_OVERHEAD_TOKENS + estimateTokens(m.content);
  return total;
}

/**
 * The longest prefix of `text` whose estimate is at most `maxTokens`, preferring to end at a
 * line or word break so a cut number ("12" of "128") does not read as a real value.
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const maxUnits = maxTokens * UNITS_PER_TOKEN;
  let units = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    const width = code >= 0xd800 && code <= 0xdbff && end + 1 < text.length ? 2 : 1;
    const cost = charUnits(code);
    if (units + cost > maxUnits) break;
    units += cost;
    end += width;
  }
  if (end >= text.length) return text;
  const cut = text.slice(0, end);
  const lineBreak = cut.lastIndexOf('\n');
  if (lineBreak >= end * 0.8) return cut.slice(0, lineBreak);
  const space = cut.lastIndexOf(' ');
  if (space >= end * 0.8) return cut.slice(0, space);
  return cut;
}

export interface BudgetParts {
  /** Tokens kept free for the answer; Ollama counts prompt and answer against `num_ctx`. */
  reserveForAnswer?: number;
  system: string;
  /** Everything in the user message other than the sources (the question and its framing). */
  question: string;
}

/**
 * Tokens left for sources in a two-message (system, user) request with a context window of
 * `numCtx`. Never negative.
 */
export function contextBudget(numCtx: number, { reserveForAnswer = 1024, system, question }: BudgetParts): number {
  if (!Number.isFinite(numCtx) || numCtx <= 0) throw new RangeError('numCtx must be positive');
  const fixed = PROMPT_OVERHEAD_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + estimateTokens(system) + estimateTokens(question);
  return Math.max(0, Math.floor(numCtx) - Math.max(0, reserveForAnswer) - fixed);
}
