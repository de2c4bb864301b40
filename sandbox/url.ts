import type { SandboxInstance, SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import { AiOfflineError } from './errors.js';
import { ollamaHealthy } from './ollama.js';

/**
 * Runtime for an Ollama the operator runs themselves (`OLLAMA_URL`). Not ephemeral: the pool
 * still leases (so concurrency stays capped at `max`) but destroying an "instance" only forgets
 * it; the Ollama keeps whatever it keeps (its logs, loaded KV cache). A warning says so once.
 */
export class UrlRuntime implements SandboxRuntime {
  readonly kind = 'url' as const;
  readonly ephemeral = false;
  private readonly baseUrl: string;
  private seq = 0;
  private warned = false;

  constructor(
    url: string,
    private readonly log: SandboxLogger = silentLogger,
  ) {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  async create(): Promise<SandboxInstance> {
    if (!this.warned) {
      this.warned = true;
      this.log.warn({ url: this.baseUrl }, 'OLLAMA_URL runtime is not ephemeral: nothing is wiped between chats');
    }
    // Nothing to start here, so "started" must at least mean the Ollama answers: otherwise the
    // pool would lend a sandbox that fails only once the answer's stream has begun.
    if (!(await ollamaHealthy(this.baseUrl))) throw new AiOfflineError('The AI is offline: the Ollama at OLLAMA_URL does not answer.');
    return { id: `url-${++this.seq}`, baseUrl: this.baseUrl };
  }

  async destroy(): Promise<void> {}

  async removeOrphans(): Promise<number> {
    return 0;
  }

  ping(): Promise<boolean> {
    return ollamaHealthy(this.baseUrl);
  }
}
