import { describe, expect, it } from 'vitest';
import { SandboxConfigSchema, sandboxConfigFromEnv, selectRuntime } from './select.js';
import { startFakeOllama } from '../test-support/sandbox/fake-ollama.js';

describe('SandboxConfig', () => {
  it('has the documented defaults', () => {
    expect(sandboxConfigFromEnv({})).toEqual({
      runtime: 'auto',
      image: 'ollama/ollama:0.32.15',
      guardImage: 'context-vault:latest',
      modelsDir: './data/models',
      minWarm: 1,
      max: 2,
      maxUses: 10,
      maxAgeMs: 600_000,
      memoryMb: 8192,
      model: 'llama3.1:8b',
      embedModel: 'nomic-embed-text',
      numCtx: 8192,
      queueMax: 16,
      acquireTimeoutMs: 30_000,
      firstTokenTimeoutMs: 120_000,
      idleTimeoutMs: 60_000,
      network: 'context-vault-sandbox',
      owner: 'default',
    });
    expect(sandboxConfigFromEnv({ DATA_DIR: '/srv/cv' }).modelsDir).toBe('/srv/cv/models');
  });

  it('reads every variable and names the bad ones', () => {
    const cfg = sandboxConfigFromEnv({
      SANDBOX_RUNTIME: 'docker',
      DOCKER_HOST: 'unix:///run/podman/podman.sock',
      SANDBOX_MIN_WARM: '0',
      SANDBOX_MAX: '4',
      SANDBOX_GPUS: 'all',
      OLLAMA_URL: 'http://127.0.0.1:11434',
      OLLAMA_NUM_CTX: '16384',
      OLLAMA_FIRST_TOKEN_TIMEOUT_MS: '300000',
      OLLAMA_IDLE_TIMEOUT_MS: '90000',
    });
    expect(cfg).toMatchObject({
      runtime: 'docker',
      minWarm: 0,
      max: 4,
      gpus: 'all',
      numCtx: 16384,
      ollamaUrl: 'http://127.0.0.1:11434',
      firstTokenTimeoutMs: 300_000,
      idleTimeoutMs: 90_000,
    });
    expect(() => sandboxConfigFromEnv({ SANDBOX_RUNTIME: 'k8s', SANDBOX_MAX: 'many' })).toThrow(
      /SANDBOX_RUNTIME[\s\S]*SANDBOX_MAX|SANDBOX_MAX[\s\S]*SANDBOX_RUNTIME/,
    );
    expect(SandboxConfigSchema.parse({ max: '3' }).max).toBe(3);
  });

  it('pins a tested Ollama release, never latest', () => {
    expect(sandboxConfigFromEnv({}).image).toMatch(/^ollama\/ollama:\d+\.\d+\.\d+$/);
  });

  it('refuses cloud models, which send the prompt to ollama.com', () => {
    for (const m of ['gpt-oss:120b-cloud', 'kimi-k2.6:cloud', 'qwen3.5:CLOUD', 'deepseek-v3.1:671b-cloud']) {
      expect(() => sandboxConfigFromEnv({ OLLAMA_MODEL: m }), m).toThrow(/OLLAMA_MODEL[\s\S]*cloud model/);
    }
    expect(sandboxConfigFromEnv({ OLLAMA_MODEL: 'qwen2.5:7b' }).model).toBe('qwen2.5:7b');
  });
});

describe('selectRuntime', () => {
  const base = sandboxConfigFromEnv({});
  it('none and url as asked', async () => {
    expect((await selectRuntime({ ...base, runtime: 'none' })).kind).toBe('none');
    const rt = await selectRuntime({ ...base, runtime: 'url', ollamaUrl: 'http://127.0.0.1:1' });
    expect([rt.kind, rt.ephemeral]).toEqual(['url', false]);
    expect(await rt.ping()).toBe(false);
    await expect(selectRuntime({ ...base, runtime: 'url' })).rejects.toThrow(/OLLAMA_URL/);
  });

  it('auto falls back to url, then none, when no engine answers', async () => {
    const fake = await startFakeOllama();
    try {
      const dead = { ...base, dockerHost: 'unix:///nonexistent/docker.sock' };
      const url = await selectRuntime({ ...dead, ollamaUrl: fake.url });
      expect(url.kind).toBe('url');
      expect(await url.ping()).toBe(true);
      const warnings: unknown[] = [];
      const log = { info() {}, error() {}, warn: (o: unknown) => warnings.push(o) };
      const created = await url.create();
      expect(created.baseUrl).toBe(fake.url);
      expect((await selectRuntime(dead, log)).kind).toBe('none');
      expect(warnings.length).toBe(1);
    } finally {
      await fake.close();
    }
  });
});
