/**
 * Errors the sandbox layer throws on purpose. Each carries a stable `code` so the server can map
 * it to a status without string matching: `ai_offline` and `pool_closed` -> 503,
 * `pool_saturated` and `pool_timeout` -> 429 (with Retry-After) or 503, `sandbox_start_failed`
 * -> 503.
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

/** The pool is draining for shutdown (or was never started) and accepts no new leases. */
export class PoolClosedError extends SandboxError {
  constructor() {
    super('pool_closed', 'The AI pool is shutting down.');
  }
}

/** A sandbox could not be started (engine error, image missing, readiness timeout). */
export class SandboxStartError extends SandboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sandbox_start_failed', message, options);
  }
}
