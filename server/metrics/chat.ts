import type { Metrics } from './registry.js';

/** Distinct model names that get their own series (a bound should a runtime serve very many). */
const MAX_MODELS = 20;
/** The label of a model the runtime did not serve: a name a user typed is never a label. */
const UNKNOWN_MODEL = 'unknown';

/**
 * The chat pipeline: time to first token and generation speed by model, retrieval time and
 * sources per answer, and how much of the prompt budget the prompt used. Model names are the
 * server's default or a model the runtime served (never content, never a name the runtime
 * refused: those are `unknown`, see ChatStreamService); past {@link MAX_MODELS} distinct names
 * they share `other` so the series stay bounded.
 */
export class ChatMetrics {
  readonly #models = new Set<string>();
  readonly #ttft;
  readonly #tokensPerSecond;
  readonly #answers;
  readonly #retrieval;
  readonly #sources;
  readonly #promptTokens;
  readonly #budgetUsed;
  readonly #leaseWait;

  constructor(metrics: Metrics) {
    this.#ttft = metrics.histogram({
      name: 'cv_chat_time_to_first_token_seconds',
      help: 'From the chat request arriving to the first answer token, by model.',
      labelNames: ['model'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120],
    });
    this.#tokensPerSecond = metrics.histogram({
      name: 'cv_chat_tokens_per_second',
      help: 'Answer tokens generated per second (first token to last), by model.',
      labelNames: ['model'],
      buckets: [1, 2, 5, 10, 15, 20, 30, 50, 80, 120, 200, 500],
    });
    this.#answers = metrics.counter({
      name: 'cv_chat_answers_total',
      help: 'Chat answers by model and outcome (done, cut_off, stopped, error).',
      labelNames: ['model', 'outcome'],
    });
    this.#retrieval = metrics.histogram({
      name: 'cv_chat_retrieval_duration_seconds',
      help: 'Time to find, decrypt and rank the sources of one question.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.#sources = metrics.histogram({
      name: 'cv_chat_sources_per_answer',
      help: 'Sources given to the model for one answer (after the prompt budget).',
      labelNames: ['stage'],
      buckets: [0, 1, 2, 3, 5, 8, 13, 20, 40],
    });
    this.#promptTokens = metrics.histogram({
      name: 'cv_chat_prompt_tokens',
      help: 'Estimated prompt tokens sent with one question.',
      buckets: [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
    });
    this.#budgetUsed = metrics.histogram({
      name: 'cv_chat_prompt_budget_ratio',
      help: 'Prompt tokens as a share of the budget (num_ctx minus the answer reserve).',
      buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1, 1.1],
    });
    this.#leaseWait = metrics.histogram({
      name: 'cv_sandbox_lease_wait_seconds',
      help: 'Time a chat waited for a sandbox lease, by outcome (ok, saturated, timeout, offline, error).',
      labelNames: ['outcome'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    });
  }

  /** `name` undefined: a model the runtime did not serve. */
  model(name: string | undefined): string {
    if (name === undefined) return UNKNOWN_MODEL;
    if (this.#models.has(name)) return name;
    if (this.#models.size >= MAX_MODELS) return 'other';
    this.#models.add(name);
    return name;
  }

  /** What retrieval and the prompt builder produced for one question. */
  prepared(p: { retrievalSeconds: number; sourcesFound: number; sourcesUsed: number; promptTokens: number; budgetTokens: number }): void {
    this.#retrieval.observe(p.retrievalSeconds);
    this.#sources.observe({ stage: 'found' }, p.sourcesFound);
    this.#sources.observe({ stage: 'used' }, p.sourcesUsed);
    this.#promptTokens.observe(p.promptTokens);
    if (p.budgetTokens > 0) this.#budgetUsed.observe(p.promptTokens / p.budgetTokens);
  }

  leaseWait(outcome: 'ok' | 'saturated' | 'timeout' | 'offline' | 'error', seconds: number): void {
    this.#leaseWait.observe({ outcome }, seconds);
  }

  firstToken(model: string, secondsSinceRequest: number): void {
    this.#ttft.observe({ model: this.model(model) }, secondsSinceRequest);
  }

  /** One finished stream; the speed is recorded when it spans measurable time. */
  answered(model: string | undefined, outcome: 'done' | 'cut_off' | 'stopped' | 'error', generation?: { tokens: number; seconds: number }): void {
    const label = this.model(model);
    this.#answers.inc({ model: label, outcome });
    if (generation && generation.tokens > 1 && generation.seconds > 0) this.#tokensPerSecond.observe({ model: label }, generation.tokens / generation.seconds);
  }
}
