import { isCloudModel } from '../../sandbox/config.js';
import type { ModelInfo } from '../../contract/index.js';
import { NoModelError } from '../../sandbox/errors.js';
import { sameModel, taggedModelName } from '../../sandbox/model-names.js';
import { isValidModelName, PullRefusedError } from '../../sandbox/models.js';
import { ModelNotFoundError, type ModelFileInfo, type ModelStore, type PullProgress } from '../../sandbox/model-store.js';
import { AppError, badRequest, conflict, forbidden, notFound, unavailable, unprocessable } from '../errors.js';
import type { ServerSettingsRepository } from '../repositories/server-settings.repository.js';
import type { SessionContext } from './keyring.js';

const MiB = 1024 * 1024;
const CHAT_KEY = 'default_chat_model';
const EMBED_KEY = 'default_embed_model';

/** `progress` `{ completed, total }` lines, summed over the layers Ollama reported so far. */
export interface PullEvent {
  status: string;
  completed: number;
  total: number;
}

export interface ModelsServiceOptions {
  /** Where models live; null when this server has no way to manage them (runtime `none` without an engine). */
  store: ModelStore | null;
  /** `SANDBOX_MEMORY_MB`, `SANDBOX_GPUS`, `OLLAMA_NUM_CTX`, `OLLAMA_MODEL`, `OLLAMA_EMBED_MODEL`. */
  memoryMb: number;
  gpus: string | undefined;
  numCtx: number;
  envChatModel: string;
  envEmbedModel: string;
  isAdmin: (userId: string) => Promise<boolean>;
}

/**
 * The memory a model needs in a sandbox: its weights, plus an f16 KV cache for the context sent
 * with every request (2 x layers x context x KV width x 2 bytes, the KV width being
 * embedding / heads x KV heads, llama.cpp's layout). Unknown shapes count the weights only.
 */
export function requiredBytes(m: ModelFileInfo, numCtx: number): number {
  const ctx = Math.min(numCtx, m.contextLength ?? numCtx);
  const kv =
    m.blockCount && m.embeddingLength && m.headCount ? 2 * m.blockCount * ctx * (m.embeddingLength / m.headCount) * (m.headCountKv ?? m.headCount) * 2 : 0;
  return m.size + Math.round(kv);
}

/**
 * Settings -> Models: list, pull, delete and the default chat and embedding models. Listing is
 * open to every signed-in user (the chat's model picker needs it); changes are for admin
 * accounts (`users.is_admin`: the first account of an instance, and whoever `npm run invite --
 * --admin` names). One change at a time per server.
 */
export class ModelsService {
  #busy = false;
  #embedNow: string | undefined;

  constructor(
    private readonly settings: ServerSettingsRepository,
    private readonly opts: ModelsServiceOptions,
  ) {}

  /** The default chat model: the admin's choice, else `OLLAMA_MODEL`. */
  async defaultChatModel(): Promise<string> {
    return (await this.settings.getAll([CHAT_KEY])).get(CHAT_KEY) ?? this.opts.envChatModel;
  }

  /** The default embedding model: the admin's choice, else `OLLAMA_EMBED_MODEL`. */
  async defaultEmbedModel(): Promise<string> {
    this.#embedNow = (await this.settings.getAll([EMBED_KEY])).get(EMBED_KEY) ?? this.opts.envEmbedModel;
    return this.#embedNow;
  }

  /**
   * The embedding model as last read (synchronous, for the embedding sweep, which compares it with
   * each item's `model_mac`): `OLLAMA_EMBED_MODEL` until {@link defaultEmbedModel} or a change of
   * defaults has read the admin's choice.
   */
  embedModelNow(): string {
    return this.#embedNow ?? this.opts.envEmbedModel;
  }

  async defaults(): Promise<{ chat: string; embed: string }> {
    const s = await this.settings.getAll([CHAT_KEY, EMBED_KEY]);
    return { chat: s.get(CHAT_KEY) ?? this.opts.envChatModel, embed: s.get(EMBED_KEY) ?? this.opts.envEmbedModel };
  }

  async list(session: SessionContext) {
    const found = this.opts.store ? await this.#listStore() : [];
    const models: ModelInfo[] = found.map((m) => {
      const need = requiredBytes(m, this.opts.numCtx);
      return {
        name: m.name,
        size: m.size,
        ...(m.family ? { family: m.family } : {}),
        ...(m.quantization ? { quantization: m.quantization } : {}),
        ...(m.contextLength ? { contextLength: m.contextLength } : {}),
        fits: need <= this.opts.memoryMb * MiB,
        requiredBytes: need,
        kind: m.embedding ? 'embedding' : 'chat',
      };
    });
    return {
      models,
      defaults: await this.defaults(),
      canManage: !!this.opts.store && !session.apiToken && (await this.opts.isAdmin(session.userId)),
      limits: { memoryMb: this.opts.memoryMb, gpus: !!this.opts.gpus, numCtx: this.opts.numCtx },
    };
  }

  async #listStore(): Promise<ModelFileInfo[]> {
    try {
      return await this.opts.store!.list();
    } catch {
      throw unavailable('The models could not be listed: the model runtime does not answer.', 'models_unavailable', 10);
    }
  }

  async #requireAdmin(session: SessionContext): Promise<ModelStore> {
    if (!(await this.opts.isAdmin(session.userId))) throw forbidden('Only an admin account can manage models.', 'forbidden');
    if (!this.opts.store) throw unavailable('This server has no container engine or Ollama to manage models with.', 'models_unavailable');
    return this.opts.store;
  }

  #checkName(name: string): void {
    if (!isValidModelName(name)) throw badRequest('Not an Ollama model name (e.g. llama3.1:8b).', 'bad_model_name');
    if (isCloudModel(name)) throw badRequest(`${name} is a cloud model: it runs on ollama.com and would get the prompts.`, 'cloud_model');
  }

  /** Holds the one-change-at-a-time slot until `release` runs. */
  #claim(): () => void {
    if (this.#busy) throw conflict('Another model pull or delete is running; one at a time.', 'models_busy');
    this.#busy = true;
    return () => {
      this.#busy = false;
    };
  }

  /**
   * Starts a pull and waits for its first progress line, so a refusal (another pull, a sandbox
   * serving the model, an engine that does not answer) is an ordinary error response; the
   * returned iterator then yields summed progress and ends when Ollama says `success`.
   */
  async startPull(session: SessionContext, name: string, signal: AbortSignal): Promise<AsyncGenerator<PullEvent, void, undefined>> {
    const store = await this.#requireAdmin(session);
    this.#checkName(name);
    const release = this.#claim();
    let source: AsyncIterator<PullProgress>;
    let first: IteratorResult<PullProgress>;
    try {
      source = store.pull(name, signal)[Symbol.asyncIterator]();
      first = await source.next();
    } catch (err) {
      release();
      throw mapStoreError(err);
    }
    const layers = new Map<string, { total: number; completed: number }>();
    const event = (p: PullProgress): PullEvent => {
      if (p.digest && p.total) layers.set(p.digest, { total: p.total, completed: Math.min(p.completed ?? 0, p.total) });
      let total = 0;
      let completed = 0;
      for (const l of layers.values()) {
        total += l.total;
        completed += l.completed;
      }
      return { status: p.status, completed, total };
    };
    return (async function* () {
      try {
        let r = first;
        while (!r.done) {
          yield event(r.value);
          r = await source.next();
        }
      } finally {
        await source.return?.();
        release();
      }
    })();
  }

  /** Deletes a model; never a current default (new sandboxes preload the chat default and would not start). */
  async delete(session: SessionContext, name: string): Promise<void> {
    const store = await this.#requireAdmin(session);
    this.#checkName(name);
    const defaults = await this.defaults();
    if (sameModel(name, defaults.chat) || sameModel(name, defaults.embed)) {
      throw conflict(`${name} is a default model; choose another default first.`, 'model_is_default');
    }
    const release = this.#claim();
    try {
      await store.delete(taggedModelName(name));
    } catch (err) {
      throw mapStoreError(err);
    } finally {
      release();
    }
  }

  /**
   * Sets the default chat and/or embedding model; each must be in the models directory. A name is
   * kept as given: the embedding model's name is bound into every stored vector (model_mac), so
   * writing `nomic-embed-text` back as `nomic-embed-text:latest` would make the vault embed again.
   */
  async setDefaults(session: SessionContext, input: { chat?: string | undefined; embed?: string | undefined }) {
    const store = await this.#requireAdmin(session);
    // Like list, pull and delete: a runtime that does not answer is a 503, not a server error.
    const listed = await store.list().catch((err: unknown) => Promise.reject(mapStoreError(err)));
    const found = new Map(listed.map((m) => [taggedModelName(m.name), m]));
    for (const [role, name] of [
      ['chat', input.chat],
      ['embed', input.embed],
    ] as const) {
      if (name === undefined) continue;
      this.#checkName(name);
      const model = found.get(taggedModelName(name));
      if (!model) throw unprocessable(`${name} is not in the models directory; pull it first.`, 'model_not_found');
      // Ollama refuses a chat with an embedding model, and an embedding from a chat model is not
      // what the vectors of the vault were made with: either choice would fail every request.
      if (role === 'chat' && model.embedding)
        throw unprocessable(`${name} is an embedding model: it cannot answer chats. Choose a chat model.`, 'wrong_model_kind');
      if (role === 'embed' && !model.embedding)
        throw unprocessable(`${name} is a chat model, not an embedding model. Choose an embedding model such as nomic-embed-text.`, 'wrong_model_kind');
    }
    if (input.chat !== undefined) await this.settings.set(CHAT_KEY, input.chat, session.userId);
    if (input.embed !== undefined) {
      await this.settings.set(EMBED_KEY, input.embed, session.userId);
      this.#embedNow = input.embed;
    }
    return this.defaults();
  }

  /**
   * `/health/ollama`'s `no_model` for an operator's own Ollama (`OLLAMA_URL`, whose `/api/tags`
   * the store reads: one request per probe). Container sandboxes preload the default chat model and the pool reports one
   * that is missing; nothing does that for an Ollama the server does not start. Undefined when the
   * model is listed, or when the list cannot be read (the runtime's own health says whether
   * Ollama answers).
   */
  async missingChatModel(): Promise<{ code: 'no_model'; message: string } | undefined> {
    const store = this.opts.store;
    if (store?.kind !== 'ollama') return undefined;
    const model = await this.defaultChatModel();
    const names = await store.names().catch(() => undefined);
    if (!names || names.some((name) => sameModel(name, model))) return undefined;
    return { code: 'no_model', message: this.#noModelMessage(model, store) };
  }

  /**
   * A chat's model is missing (Ollama's 404): when it is the default chat model, no chat can be
   * answered until someone pulls it, which is the operator's `no_model` (503), not the 422 of a
   * model the user picked. Undefined for any other model.
   */
  async noModelFor(model: string): Promise<AppError | undefined> {
    if (!this.opts.store || !sameModel(model, await this.defaultChatModel())) return undefined;
    return unavailable(this.#noModelMessage(model, this.opts.store), 'no_model', 30);
  }

  /** What a missing default chat model is called, with the command that pulls it where it is missing. */
  #noModelMessage(model: string, store: ModelStore): string {
    if (store.kind === 'models-dir') return new NoModelError(model).message;
    return `No model pulled: ${model} is not on the Ollama at OLLAMA_URL. Run \`ollama pull ${model}\` there, or pull it in Settings -> Models.`;
  }
}

function mapStoreError(err: unknown): Error {
  if (err instanceof AppError) return err;
  if (err instanceof PullRefusedError) return conflict(err.message, 'models_busy');
  if (err instanceof ModelNotFoundError) return notFound('Model');
  return unavailable(`The model runtime could not do this: ${(err as Error).message.slice(0, 200)}`, 'models_unavailable');
}
