import type { SandboxInstance, SandboxRuntime } from './runtime.js';
import { AiOfflineError } from './errors.js';

/** Runtime used when no engine and no `OLLAMA_URL` exist: the vault works, chat says "AI offline". */
export class NoneRuntime implements SandboxRuntime {
  readonly kind = 'none' as const;
  readonly ephemeral = true;

  async create(): Promise<SandboxInstance> {
    throw new AiOfflineError();
  }

  async destroy(): Promise<void> {}

  async removeOrphans(): Promise<number> {
    return 0;
  }

  async ping(): Promise<boolean> {
    return false;
  }
}
