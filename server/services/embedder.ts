import { existsSync } from 'node:fs';
import type { SandboxPool } from '../../sandbox/pool.js';
import { EMBED_BATCH, embedTexts } from '../../sandbox/embed.js';
import { ModelTimeoutError, NoModelError } from '../../sandbox/errors.js';
import { manifestPath } from '../../sandbox/model-files.js';
import type { SharedLease } from './turn-lease.js';

/** Turns texts into vectors where the owner's plaintext may be: their own sandbox. */
export interface Embedder {
  readonly model: string;
  /** Cheap: false when the model is certainly not there (not in the models directory). */
  present(): boolean;
  /**
   * All texts in one sandbox lease, {@link EMBED_BATCH} per request; NoModelError when the model
   * is missing. With `shared`, on that lease (a chat turn's), which its owner releases; a failure
   * to take it is the owner's to report.
   */
  embed(userId: string, texts: string[], signal?: AbortSignal, shared?: SharedLease): Promise<number[][]>;
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
    return this.modelsDir === undefined || existsSync(manifestPath(this.modelsDir, this.model));
  }

  async embed(userId: string, texts: string[], signal?: AbortSignal, shared?: SharedLease): Promise<number[][]> {
    const lease = shared ? await shared.get() : await this.pool.acquire(userId, { signal });
    let failed = false;
    try {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += EMBED_BATCH) {
        out.push(...(await embedTexts(lease.baseUrl, this.model, texts.slice(i, i + EMBED_BATCH), signal, lease.deadlines.firstTokenMs)));
      }
      return out;
    } catch (err) {
      // A missing model is no fault of the container; anything else may be.
      failed = !(err instanceof NoModelError) && !signal?.aborted;
      // A model that did not answer within its deadline would keep the answer waiting as long.
      if (shared && err instanceof ModelTimeoutError) shared.fail(err);
      throw err;
    } finally {
      if (!shared) lease.release({ error: failed });
    }
  }
}
