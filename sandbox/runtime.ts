/**
 * The contract between the pool and whatever actually runs Ollama. A runtime only knows how to
 * start, address and remove inference instances; leasing, user binding and recycling live in
 * {@link ../pool.ts}.
 */

/** One running Ollama endpoint handed out by a runtime. */
export interface SandboxInstance {
  /** Runtime-specific id (a container id, a pid-file name, ...), unique while it lives. */
  id: string;
  /** Where its HTTP API answers, e.g. `http://10.89.0.7:11434` (no trailing slash). */
  baseUrl: string;
}

/** Which backend a runtime is; reported by `GET /health/ollama`. */
export type SandboxRuntimeKind = 'docker' | 'url' | 'none';

/** A backend able to create and remove inference instances. */
export interface SandboxRuntime {
  readonly kind: SandboxRuntimeKind;
  /**
   * Whether destroying an instance really discards everything it saw. False for an external
   * Ollama (`url`), where the pool can only limit concurrency.
   */
  readonly ephemeral: boolean;
  /** Starts an instance and resolves once its API answers; rejects (after cleaning up) otherwise. */
  create(): Promise<SandboxInstance>;
  /** Removes an instance; removing one that is already gone is not an error. */
  destroy(id: string): Promise<void>;
  /** Removes instances left behind by a previous, crashed server; resolves to how many. */
  removeOrphans(): Promise<number>;
  /** Whether the backend answers at all (never throws). */
  ping(): Promise<boolean>;
  /*
   * Optional, for runtimes spread over several engines (hosts.ts); the pool calls them when
   * present and behaves as before when not.
   */
  /** Called by the pool's start (health checks begin). */
  start?(): void;
  /** Called at the end of the pool's drain (health checks stop). */
  close?(): Promise<void>;
  /** How many more instances could be created now (free capacity on answering engines). */
  freeSlots?(): number;
  /** Whether an instance's engine stopped answering: it must not be leased again. */
  isLost?(id: string): boolean;
  /** False while no engine answers: acquires then fail at once as offline instead of queueing. */
  available?(): boolean;
  /** Calls `listener` when engines go down or come back; returns the unsubscribe. */
  watch?(listener: () => void): () => void;
}

/** Minimal logger shape (pino-compatible) so sandbox/ does not depend on the server's logger. */
export interface SandboxLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug?(obj: object | string, msg?: string): void;
}

/** A logger that drops everything; the default where none is given. */
export const silentLogger: SandboxLogger = { info() {}, warn() {}, error() {}, debug() {} };
