import type { Browser } from 'playwright-core';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_LABEL, dockerFromHost } from '../sandbox/docker.js';
import { ENGINE_REQUIRED, engineHost, engineSkipReason, ensureFakeOllamaImage, startPodmanEngine } from '../test-support/sandbox/engine.js';
import { launch, newSession, signUp, startServer, type RunningServer, type Session } from './helpers.js';

// CI sets SANDBOX_ENGINE_TESTS=1: then the engine is started here and this file must run.
const skip = !!(await engineSkipReason('sandbox.e2e'));

type Health = { status: string; runtime: string; code?: string; message?: string };

/**
 * The first run of issue 13, end to end: the real server with the docker runtime on the real
 * engine (the Ollama stand-in as the image, guarded), an empty models directory, and Chromium.
 */
describe.skipIf(skip)('chat with real sandboxes and no model pulled yet', () => {
  let server: RunningServer;
  let browser: Browser;
  let s: Session;
  let modelsDir: string;
  const owner = `e2e-${randomUUID().slice(0, 8)}`;
  const health = async (): Promise<Health> => (await (await fetch(`${server.url}/health/ollama`)).json()) as Health;
  const waitHealth = async (ok: (h: Health) => boolean, what: string) => {
    let h = await health();
    for (let i = 0; i < 240 && !ok(h); i++) {
      await new Promise((r) => setTimeout(r, 250));
      h = await health();
    }
    if (!ok(h)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h)}`);
    return h;
  };

  beforeAll(async () => {
    if (ENGINE_REQUIRED) startPodmanEngine();
    const host = engineHost() ?? 'unix:///run/podman/podman.sock';
    const image = await ensureFakeOllamaImage(dockerFromHost(host));
    const parent = mkdtempSync(join(tmpdir(), 'cv-e2e-models-'));
    chmodSync(parent, 0o755);
    modelsDir = join(parent, 'models');
    server = await startServer({
      SANDBOX_RUNTIME: 'docker',
      DOCKER_HOST: host,
      SANDBOX_IMAGE: image,
      SANDBOX_GUARD_IMAGE: image,
      SANDBOX_MODELS_DIR: modelsDir,
      SANDBOX_OWNER: owner,
      SANDBOX_NETWORK: `cv-${owner}`,
      SANDBOX_MIN_WARM: '1',
      SANDBOX_MAX: '1',
      SANDBOX_MEMORY_MB: '256',
    });
    browser = await launch();
    s = await newSession(browser, server.url, 'sandbox');
    await signUp(s.page, `nora+${Date.now()}@example.org`);
  });

  afterAll(async () => {
    await s?.context.close();
    await browser?.close();
    await server?.stop();
    // The server removes its sandboxes on shutdown; anything left is a failure's debris.
    const docker = dockerFromHost(engineHost() ?? 'unix:///run/podman/podman.sock');
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${owner}`] } })) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters: { label: [`${OWNER_LABEL}=${owner}`] } })) {
      await docker
        .getNetwork(n.Name)
        .remove()
        .catch(() => undefined);
    }
  });

  it('says "No model pulled" with the command to run, then chats once the model is there', async () => {
    const h = await waitHealth((x) => x.code === 'no_model', 'no_model');
    expect(h).toMatchObject({ status: 'offline', runtime: 'docker' });
    expect(h.message).toMatch(/^No model pulled: llama3\.1:8b .*npm run models -- pull llama3\.1:8b/);

    const { page } = s;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click();
    await page.waitForURL('**/chat');
    const banner = page.getByTestId('ai-offline');
    await banner.getByText('No model pulled', { exact: true }).waitFor();
    expect(await banner.textContent()).toContain('npm run models -- pull llama3.1:8b');
    await s.shot('chat-no-model');

    // What `ollama pull` leaves behind, manifest last.
    mkdirSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1'), { recursive: true });
    writeFileSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1/8b'), '{"schemaVersion":2}');
    await waitHealth((x) => x.status === 'ok', 'ok');
    await page.reload();
    await page.getByLabel('Message').waitFor();
    expect(await page.getByTestId('ai-offline').count()).toBe(0);
    await page.getByLabel('Message').fill('Is anything in my vault?');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.getByTestId('assistant-message').last();
    await answer.getByText(/The answer is in source/).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Send' }).waitFor({ timeout: 30_000 });
    await s.shot('chat-after-pull');
  });
});
