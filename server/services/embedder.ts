import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxPool } from '../../sandbox/pool.js';
import { EMBED_BATCH, embedTexts } from '../../sandbox/embed.js';
import { NoModelError } from '../../sandbox/errors.js';
import type { SharedLease } from './turn-lease.js';

/** Turns texts into vectors where the owner's plaintext may be: their own sandbox. */
export interface Embedder {
  readonly model: string;
  /** Cheap: false when the model is certainly not there (not in the models directory). */
  present(): boolean;
  /**
   * All texts in one sandbox lease, {@link EMBED_BATCH} per request; NoModelError when the model
   * is missing. With `shared`, on that lease (a chat turn's), which its owner releases.
   */
  embed(userId: string, texts: string[], signal?: AbortSignal, shared?: SharedLease): Promise<number[][]>;
}

/**
 * Where Ollama keeps a model's manifest: `manifests/<host>/<namespace>/<model>/<tag>`, with
 * registry.ollama.ai/library and `latest` filled in for a short name (ollama types/model/name.go).
 */
export function modelManifestPath(modelsDir: string, name: string): string {
  const [path, tag = 'latest'] = name.split(':') as [string, string?];
  const parts = path.split('/');
  const full = parts.length === 1 ? ['registry.ollama.ai', 'library', parts[0]!] : parts.length === 2 ? ['registry.ollama.ai', ...parts] : parts;
  return join(modelsDir, 'manifests', ...full, tag);
}

export class PoolEmbedder implements Embedder {
  constructor(
    private readonly pool: SandboxPool,
    /** The current default embedding model (an admin can change it in Settings -> Models). */
    private readonly currentModel: () => string,
    /** The models directory the sandboxes mount, when this server can see it (docker runtime). */
    private readonly modelsDir?: string,
  ) {}

  get model(): string {
    return this.currentModel();
  }

  present(): boolean {
    return this.modelsDir === undefined || existsSync(modelManifestPath(this.modelsDir, this.model));
  }

  async embed(userId: string, texts: string[], signal?: AbortSignal, shared?: SharedLease): Promise<number[][]> {
    const lease = shared ? await shared.get() : await this.pool.acquire(userId, { signal });
    let failed = false;
    try {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += EMBED_BATCH) out.push(...(await embedTexts(lease.baseUrl, this.model, texts.slice(i, i + EMBED_BATCH), signal)));
      return out;
    } catch (err) {
      // A missing model is no fault of the container; anything else may be.
      failed = !(err instanceof NoModelError) && !signal?.aborted;
      throw err;
    } finally {
      if (!shared) lease.release({ error: failed });
    }
  }
}
