/**
 * Errors the sandbox layer throws on purpose. Each carries a stable `code` so the server can map
 * it to a status without string matching: `ai_offline` and `pool_closed` -> 503,
 * `pool_saturated` and `pool_timeout` -> 429 (with Retry-After) or 503, `sandbox_start_failed`,
 * `image_missing`, `no_model` and `ai_timeout` -> 503.
 */
export class SandboxError extends Error {
  /** Stable snake_case code for API error bodies. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** No runtime can serve chat (runtime `none`, or the engine is unreachable). */
export class AiOfflineError extends SandboxError {
  constructor(message = 'The AI is offline: no inference runtime is available.', options?: { cause?: unknown }) {
    super('ai_offline', message, options);
  }
}

/** The acquire queue is full; the caller should retry later. */
export class PoolSaturatedError extends SandboxError {
  constructor(readonly queueMax: number) {
    super('pool_saturated', `The AI is busy (${queueMax} requests already waiting); try again shortly.`);
  }
}

/** No sandbox became free within the acquire timeout. */
export class PoolTimeoutError extends SandboxError {
  constructor(readonly timeoutMs: number) {
    super('pool_timeout', `No AI sandbox became free within ${timeoutMs} ms; try again shortly.`);
  }
}

/**
 * A sandbox's model stayed silent past its deadline (ModelDeadlines): before the first token
 * (or an embedding's answer), or between two tokens. Its Ollama is stuck or starved, so the
 * request was cut and the container is not to be trusted again.
 */
export class ModelTimeoutError extends SandboxError {
  constructor(
    readonly phase: 'first' | 'idle',
    readonly timeoutMs: number,
  ) {
    super('ai_timeout', phase === 'first' ? `The model sent nothing within ${timeoutMs} ms.` : `The model stopped sending for ${timeoutMs} ms.`);
  }
}

/** The pool is draining for shutdown (or was never started) and accepts no new leases. */
export class PoolClosedError extends SandboxError {
  constructor() {
    super('pool_closed', 'The AI pool is shutting down.');
  }
}

/** A sandbox could not be started (engine error, image missing, readiness timeout). */
export class SandboxStartError extends SandboxError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'sandbox_start_failed', message, options);
  }
}

/** An image the sandbox needs is not on the engine; nothing is ever pulled implicitly. */
export class ImageMissingError extends SandboxStartError {
  constructor(
    readonly image: string,
    what: 'sandbox' | 'guard' = 'sandbox',
  ) {
    const hint =
      what === 'sandbox'
        ? `run \`docker pull ${image}\` (\`npm run models -- pull <model>\` pulls it too)`
        : 'build the app image (`docker compose build`, or `docker build -t context-vault .`) or point SANDBOX_GUARD_IMAGE at an image with iptables';
    super(`The ${what} image ${image} is not on the container engine: ${hint}.`, { code: 'image_missing' });
  }
}

/** The chat model is not in the models directory, so no sandbox can answer. */
export class NoModelError extends SandboxStartError {
  constructor(readonly model: string) {
    super(
      `No model pulled: ${model} is not in the models directory. Run \`npm run models -- pull ${model}\` (docker compose: \`docker compose exec app npm run models -- pull ${model}\`).`,
      { code: 'no_model' },
    );
  }
}
