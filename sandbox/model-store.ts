import type Docker from 'dockerode';
import { Ollama } from 'ollama';
import { ggufShape, listModelFiles, type ModelFileInfo } from './model-files.js';
import { openModelsContainer, type ModelsContainerOptions } from './models.js';
import type { SandboxConfig } from './config.js';
import { DockerRuntime, dockerFromHost } from './docker.js';
import type { SandboxRuntime } from './runtime.js';

export type { ModelFileInfo };

/** One line of Ollama's `/api/pull` progress (server/images.go PullModel). */
export interface PullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** The model is not there (Ollama's 404 `model 'x' not found`). */
export class ModelNotFoundError extends Error {}

/**
 * Where models are listed, pulled and deleted: the models directory with the networked pull
 * container ({@link ContainerModelStore}), or an operator's own Ollama ({@link OllamaModelStore}).
 */
export interface ModelStore {
  /** What the store manages, shown to the admin. */
  readonly kind: 'models-dir' | 'ollama';
  list(): Promise<ModelFileInfo[]>;
  /** Only the models' names: what a health probe asks, without describing each model. */
  names(): Promise<string[]>;
  /** Ollama's progress lines, then the iterator ends; throws on an `{"error":...}` line. */
  pull(name: string, signal: AbortSignal): AsyncIterable<PullProgress>;
  /** Throws {@link ModelNotFoundError} when the model is not there. */
  delete(name: string): Promise<void>;
}

function isNotFound(err: unknown): boolean {
  return (err as { status_code?: number }).status_code === 404;
}

/** Ollama's HTTP API (`/api/tags`, `/api/show`, `/api/pull`, `/api/delete`) through the `ollama` client. */
export class OllamaModelStore implements ModelStore {
  readonly kind = 'ollama' as const;
  constructor(private readonly baseUrl: string) {}

  #client(signal?: AbortSignal): Ollama {
    return new Ollama({ host: this.baseUrl, fetch: (input, init) => fetch(input, { ...init, ...(signal ? { signal } : {}) }) });
  }

  /** `/api/tags` alone, without the `/api/show` per model that `list` makes. */
  async names(): Promise<string[]> {
    const { models } = await this.#client(AbortSignal.timeout(5_000)).list();
    return models.map((m) => m.name);
  }

  async list(): Promise<ModelFileInfo[]> {
    const client = this.#client(AbortSignal.timeout(30_000));
    const { models } = await client.list();
    return Promise.all(
      models.map(async (m) => {
        const info: ModelFileInfo = { name: m.name, size: m.size };
        if (m.details?.family) info.family = m.details.family;
        if (m.details?.quantization_level) info.quantization = m.details.quantization_level;
        try {
          const show = await client.show({ model: m.name });
          Object.assign(info, ggufShape(new Map(Object.entries(show.model_info ?? {}))));
          // Ollama 0.6.4 and later say it themselves; older ones leave the GGUF's word.
          const caps = (show as { capabilities?: unknown }).capabilities;
          if (Array.isArray(caps) && caps.length) {
            if (caps.includes('embedding') && !caps.includes('completion')) info.embedding = true;
            else delete info.embedding;
          }
        } catch {
          // Listed but not described: name, size and details still show.
        }
        return info;
      }),
    );
  }

  async *pull(name: string, signal: AbortSignal): AsyncIterable<PullProgress> {
    const stream = await this.#client(signal).pull({ model: name, stream: true });
    const onAbort = () => stream.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const p of stream) yield { status: p.status, digest: p.digest, total: p.total, completed: p.completed };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.#client(AbortSignal.timeout(60_000)).delete({ model: name });
    } catch (err) {
      if (isNotFound(err)) throw new ModelNotFoundError(`model '${name}' not found`);
      throw err;
    }
  }
}

/** What {@link ContainerModelStore} needs beyond the models container's own options. */
export type ContainerModelStoreOptions = Omit<ModelsContainerOptions, 'model'> & { docker: Docker };

/**
 * The models directory: listed by reading it (manifests, config blobs, GGUF headers), changed
 * only through the one-off networked models container, whose own Ollama pulls (`/api/pull`) and
 * deletes (`/api/delete`, which also removes the blobs no other model uses). The serving
 * sandboxes keep their read-only mount and no network.
 */
export class ContainerModelStore implements ModelStore {
  readonly kind = 'models-dir' as const;
  constructor(private readonly opts: ContainerModelStoreOptions) {}

  list(): Promise<ModelFileInfo[]> {
    return listModelFiles(this.opts.modelsDir);
  }

  async names(): Promise<string[]> {
    return (await this.list()).map((m) => m.name);
  }

  async *pull(name: string, signal: AbortSignal): AsyncIterable<PullProgress> {
    const { docker, ...rest } = this.opts;
    const container = await openModelsContainer(docker, { ...rest, model: name });
    try {
      yield* new OllamaModelStore(container.baseUrl).pull(name, signal);
    } finally {
      await container.close();
    }
  }

  async delete(name: string): Promise<void> {
    if (!(await this.list()).some((m) => m.name === name)) throw new ModelNotFoundError(`model '${name}' not found`);
    const { docker, ...rest } = this.opts;
    const container = await openModelsContainer(docker, { ...rest, model: name });
    try {
      await new OllamaModelStore(container.baseUrl).delete(name);
    } finally {
      await container.close();
    }
  }
}

/**
 * The store for a runtime: an operator's Ollama (`url`) manages its own models; the container
 * runtimes get the models directory and the pull container on the same engine; `none` has none.
 */
export function createModelStore(
  cfg: Pick<SandboxConfig, 'ollamaUrl' | 'dockerHost' | 'image' | 'modelsDir' | 'owner' | 'attachContainer'>,
  runtime: SandboxRuntime,
): ModelStore | null {
  if (runtime.kind === 'url') return cfg.ollamaUrl ? new OllamaModelStore(cfg.ollamaUrl) : null;
  if (runtime.kind === 'none') return null;
  const docker = runtime instanceof DockerRuntime ? runtime.docker : dockerFromHost(cfg.dockerHost);
  return new ContainerModelStore({ docker, image: cfg.image, modelsDir: cfg.modelsDir, owner: cfg.owner, attachContainer: cfg.attachContainer });
}
