import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_LABEL, PULL_LABEL } from '../../sandbox/docker.js';
import { ContainerModelStore } from '../../sandbox/model-store.js';
import { connectEngine, engineSkipReason, ensureFakeOllamaImage } from '../../test-support/sandbox/engine.js';
import { signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

// CI sets SANDBOX_ENGINE_TESTS=1, which makes the engine a requirement (test-support/sandbox/engine.ts).
const skipReason = await engineSkipReason('models-engine.int.test');

const REGISTRY = { 'qwen2.5:0.5b': { size: 397_807_936, family: 'qwen2', quantization: 'Q4_K_M', contextLength: 32768 } };

describe.skipIf(!!skipReason)('Settings -> Models through the networked pull container (real engine)', { timeout: 180_000 }, () => {
  let docker: Docker;
  let sut: TestServer;
  let modelsDir: string;
  const owner = `test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    docker = await connectEngine();
    const image = await ensureFakeOllamaImage(docker);
    modelsDir = mkdtempSync(join(tmpdir(), 'cv-models-app-'));
    chmodSync(modelsDir, 0o755);
    const modelStore = new ContainerModelStore({ docker, image, modelsDir, owner, extraEnv: { FAKE_OLLAMA_REGISTRY: JSON.stringify(REGISTRY) } });
    sut = await startTestServer('pglite', { SANDBOX_MODELS_DIR: modelsDir }, { modelStore });
  }, 300_000);
  afterAll(async () => {
    await sut?.dispose();
    for (const c of (await docker?.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${owner}`] } })) ?? [])
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });

  it('pulls with progress as SSE into the models directory, lists it from there, deletes it, and leaves no container', async () => {
    const admin = await signUp(sut.app);
    const res = await sut.app.inject({ method: 'POST', url: '/api/models/pull', headers: admin.headers, payload: { name: 'qwen2.5:0.5b' } });
    const events = parseSse(res.body);
    expect(events.filter((e) => e.event === 'progress').some((e) => e.data.total > 0 && e.data.completed < e.data.total)).toBe(true);
    expect(events.at(-1)).toEqual({ event: 'done', data: { name: 'qwen2.5:0.5b' } });
    expect(await docker.listContainers({ all: true, filters: { label: [PULL_LABEL, `${OWNER_LABEL}=${owner}`] } })).toHaveLength(0);

    const listed = (await sut.app.inject({ method: 'GET', url: '/api/models', headers: admin.headers })).json();
    expect(listed.models).toEqual([
      expect.objectContaining({ name: 'qwen2.5:0.5b', family: 'qwen2', quantization: 'Q4_K_M', contextLength: 32768, fits: true }),
    ]);

    expect((await sut.app.inject({ method: 'DELETE', url: '/api/models/qwen2.5:0.5b', headers: admin.headers })).statusCode).toBe(204);
    expect((await sut.app.inject({ method: 'GET', url: '/api/models', headers: admin.headers })).json().models).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { label: [PULL_LABEL, `${OWNER_LABEL}=${owner}`] } })).toHaveLength(0);
  });
});
