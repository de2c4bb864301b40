import { describe, expect, it } from 'vitest';
import { ModelNotFoundError, type ModelFileInfo, type ModelStore } from '../../sandbox/model-store.js';
import type { ServerSettingsRepository } from '../repositories/server-settings.repository.js';
import type { SessionContext } from './keyring.js';
import { ModelsService } from './models.service.js';

/** The models directory as ContainerModelStore sees it: listed names are tagged, and a delete finds a listed name or nothing. */
function directory(names: string[]) {
  const models: ModelFileInfo[] = names.map((name) => ({ name, size: 1 }));
  const deleted: string[] = [];
  const store: ModelStore = {
    kind: 'models-dir',
    list: async () => models,
    names: async () => models.map((m) => m.name),
    pull: () => {
      throw new Error('not in this test');
    },
    delete: async (name) => {
      const at = models.findIndex((m) => m.name === name);
      if (at < 0) throw new ModelNotFoundError(`model '${name}' not found`);
      models.splice(at, 1);
      deleted.push(name);
    },
  };
  return { store, deleted };
}

function service(store: ModelStore, env = { chat: 'llama3.1:8b', embed: 'nomic-embed-text' }) {
  const settings = new Map<string, string>();
  const repo = {
    getAll: async (keys: string[]) => new Map(keys.flatMap((k) => (settings.has(k) ? [[k, settings.get(k)!] as const] : []))),
    set: async (key: string, value: string) => void settings.set(key, value),
  } as unknown as ServerSettingsRepository;
  return new ModelsService(repo, {
    store,
    memoryMb: 8192,
    gpus: undefined,
    numCtx: 8192,
    envChatModel: env.chat,
    envEmbedModel: env.embed,
    isAdmin: async () => true,
  });
}

const admin = { userId: 'admin' } as SessionContext;

describe('ModelsService: a model named without a tag is its `:latest`', () => {
  it('deletes by the short name, as the directory lists it', async () => {
    const { store, deleted } = directory(['llama3.1:8b', 'nomic-embed-text:latest', 'all-minilm:latest']);
    await service(store).delete(admin, 'all-minilm');
    expect(deleted).toEqual(['all-minilm:latest']);
  });

  it('keeps the default, named either way, from being deleted', async () => {
    const { store, deleted } = directory(['llama3.1:8b', 'nomic-embed-text:latest']);
    for (const name of ['nomic-embed-text', 'nomic-embed-text:latest']) {
      await expect(service(store).delete(admin, name)).rejects.toMatchObject({ statusCode: 409, code: 'model_is_default' });
    }
    expect(deleted).toEqual([]);
  });

  it('reports a default chat model missing from an Ollama it does not run (url), finding it under either name', async () => {
    const ollama = (names: string[]): ModelStore => ({ ...directory(names).store, kind: 'ollama' });
    expect(await service(ollama(['llama3.1:8b'])).missingChatModel()).toBeUndefined();
    expect(await service(ollama(['llama3.1:latest']), { chat: 'llama3.1', embed: 'nomic-embed-text' }).missingChatModel()).toBeUndefined();
    expect(await service(ollama(['qwen2.5:0.5b'])).missingChatModel()).toEqual({
      code: 'no_model',
      message: expect.stringMatching(/^No model pulled: llama3\.1:8b is not on the Ollama at OLLAMA_URL\. Run `ollama pull llama3\.1:8b`/),
    });
    // Container sandboxes preload the default chat model; the pool reports a missing one.
    expect(await service(directory([]).store).missingChatModel()).toBeUndefined();
    const unreadable: ModelStore = { ...ollama([]), names: () => Promise.reject(new Error('down')) };
    expect(await service(unreadable).missingChatModel()).toBeUndefined();
  });
});
