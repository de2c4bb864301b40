import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { ModelNotFoundError, OllamaModelStore, type PullProgress } from './model-store.js';
import { listModelFiles, manifestPath } from './model-files.js';

const REGISTRY = {
  'qwen2.5:0.5b': {
    size: 397_807_936,
    family: 'qwen2',
    quantization: 'Q4_K_M',
    contextLength: 32768,
    blockCount: 24,
    embeddingLength: 896,
    headCount: 14,
    headCountKv: 2,
  },
  'nomic-embed-text:latest': { size: 274_302_450, family: 'nomic-bert', quantization: 'F16', contextLength: 2048 },
};

describe('Ollama model store against the stand-in (tags, show, pull, delete)', () => {
  let fake: FakeOllama;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cv-models-store-'));
    fake = await startFakeOllama({ modelsDir: dir, registry: REGISTRY });
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pulls with Ollama's progress lines, then lists the model with its metadata from tags and show", async () => {
    const store = new OllamaModelStore(fake.url);
    const lines: PullProgress[] = [];
    for await (const p of store.pull('qwen2.5:0.5b', new AbortController().signal)) lines.push(p);
    expect(lines[0]).toMatchObject({ status: 'pulling manifest' });
    const layer = lines.filter((l) => l.total === REGISTRY['qwen2.5:0.5b'].size);
    expect(layer.length).toBeGreaterThan(1);
    expect(layer.map((l) => l.completed)).toEqual([...layer.map((l) => l.completed!)].sort((a, b) => a - b));
    expect(layer.at(-1)!.completed).toBe(layer.at(-1)!.total);
    expect(lines.at(-1)).toMatchObject({ status: 'success' });
    // The weights are a real file of the pulled size (sparse), next to the manifest.
    const blobs = readdirSync(join(dir, 'blobs')).map((f) => statSync(join(dir, 'blobs', f)).size);
    expect(blobs).toContain(REGISTRY['qwen2.5:0.5b'].size);
    expect(statSync(manifestPath(dir, 'qwen2.5:0.5b')).isFile()).toBe(true);

    const listed = await store.list();
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'qwen2.5:0.5b',
        family: 'qwen2',
        quantization: 'Q4_K_M',
        contextLength: 32768,
        blockCount: 24,
        embeddingLength: 896,
        headCount: 14,
        headCountKv: 2,
      }),
    ]);
    expect(listed[0]!.size).toBeGreaterThan(REGISTRY['qwen2.5:0.5b'].size);
    // The directory read directly says the same as Ollama's API.
    expect(await listModelFiles(dir)).toEqual(listed);
  });

  it("a name the registry lacks fails with Ollama's error line; nothing is written", async () => {
    const store = new OllamaModelStore(fake.url);
    const pulled = async () => {
      for await (const _ of store.pull('no-such-model:1b', new AbortController().signal)) void _;
    };
    await expect(pulled()).rejects.toThrow(/file does not exist/);
    expect((await store.list()).map((m) => m.name)).toEqual(['qwen2.5:0.5b']);
  });

  it('deletes the manifest and the blobs no other model uses; a second delete is not found', async () => {
    const store = new OllamaModelStore(fake.url);
    for await (const _ of store.pull('nomic-embed-text', new AbortController().signal)) void _;
    expect((await store.list()).map((m) => m.name)).toEqual(['nomic-embed-text:latest', 'qwen2.5:0.5b']);
    const before = readdirSync(join(dir, 'blobs')).length;
    await store.delete('qwen2.5:0.5b');
    expect((await store.list()).map((m) => m.name)).toEqual(['nomic-embed-text:latest']);
    expect(readdirSync(join(dir, 'blobs')).length).toBe(before - 2);
    await expect(store.delete('qwen2.5:0.5b')).rejects.toBeInstanceOf(ModelNotFoundError);
  });
});
