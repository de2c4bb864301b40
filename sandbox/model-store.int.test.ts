import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { OWNER_LABEL, PULL_LABEL } from './docker.js';
import { ContainerModelStore, ModelNotFoundError, type PullProgress } from './model-store.js';
import { PullRefusedError, pullContainerName } from './models.js';
import { connectEngine, engineSkipReason, ensureFakeOllamaImage } from '../test-support/sandbox/engine.js';

// CI sets SANDBOX_ENGINE_TESTS=1, which makes the engine a requirement (test-support/sandbox/engine.ts).
const skipReason = await engineSkipReason('model-store.int.test');

const REGISTRY = { 'qwen2.5:0.5b': { size: 397_807_936, family: 'qwen2', quantization: 'Q4_K_M', contextLength: 32768 } };

describe.skipIf(!!skipReason)('models directory changed only through the networked models container', { timeout: 180_000 }, () => {
  let docker: Docker;
  let image: string;
  let modelsDir: string;
  const owner = `test-${randomUUID().slice(0, 8)}`;
  const store = () =>
    new ContainerModelStore({ docker, image, modelsDir, owner, extraEnv: { FAKE_OLLAMA_REGISTRY: JSON.stringify(REGISTRY), FAKE_OLLAMA_PULL_DELAY_MS: '20' } });
  const leftovers = async () => docker.listContainers({ all: true, filters: { label: [PULL_LABEL, `${OWNER_LABEL}=${owner}`] } });

  beforeAll(async () => {
    docker = await connectEngine();
    image = await ensureFakeOllamaImage(docker);
    modelsDir = mkdtempSync(join(tmpdir(), 'cv-models-ctr-'));
    chmodSync(modelsDir, 0o755);
  }, 300_000);
  afterAll(async () => {
    for (const c of (await leftovers().catch(() => [])) ?? [])
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it("pulls through the container's Ollama API with progress, lists from the directory, deletes, and leaves no container", async () => {
    const lines: PullProgress[] = [];
    for await (const p of store().pull('qwen2.5:0.5b', new AbortController().signal)) {
      lines.push(p);
      // While it runs, the pull container exists (so no sandbox starts) and is networked.
      if (lines.length === 2) {
        const [c] = await leftovers();
        expect(c).toBeDefined();
        const info = await docker.getContainer(c!.Id).inspect();
        expect(info.HostConfig.NetworkMode).not.toBe('none');
        expect(info.Mounts.find((m) => m.Destination === '/models')).toMatchObject({ RW: true });
        expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      }
    }
    expect(lines[0]).toMatchObject({ status: 'pulling manifest' });
    expect(lines.some((l) => l.total === REGISTRY['qwen2.5:0.5b'].size && (l.completed ?? 0) < l.total)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ status: 'success' });
    expect(await leftovers()).toHaveLength(0);

    expect(await store().list()).toEqual([expect.objectContaining({ name: 'qwen2.5:0.5b', family: 'qwen2', quantization: 'Q4_K_M', contextLength: 32768 })]);

    await store().delete('qwen2.5:0.5b');
    expect(await store().list()).toEqual([]);
    await expect(store().delete('qwen2.5:0.5b')).rejects.toBeInstanceOf(ModelNotFoundError);
    expect(await leftovers()).toHaveLength(0);
  });

  it('refuses a second change while one runs (the container name is taken)', async () => {
    const held = await docker.createContainer({ name: pullContainerName(owner), Image: image, Labels: { [PULL_LABEL]: '1', [OWNER_LABEL]: owner } });
    try {
      const pulling = async () => {
        for await (const _ of store().pull('qwen2.5:0.5b', new AbortController().signal)) void _;
      };
      await expect(pulling()).rejects.toBeInstanceOf(PullRefusedError);
    } finally {
      await held.remove({ force: true });
    }
  });
});
