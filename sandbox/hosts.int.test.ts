import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { HOST_LABEL, OWNER_LABEL, dockerFromHost } from './docker.js';
import { MultiHostRuntime } from './hosts.js';
import { createSandboxPool, multiHostRuntime, sandboxConfigFromEnv } from './select.js';
import { streamChat } from './ollama.js';
import type { SandboxPool } from './pool.js';
import { waitFor } from '../test-support/sandbox/wait.js';
import { engineHost, ensureFakeOllamaImage, startPodmanEngine } from '../test-support/sandbox/engine.js';

// CI sets SANDBOX_ENGINE_TESTS=1: then the engine is started here and these tests must run.
const required = process.env.SANDBOX_ENGINE_TESTS === '1';

async function answers(docker: Docker, timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), timeoutMs))]);
    return true;
  } catch {
    return false;
  }
}

function hasPodman(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The second engine is a second podman API service on this machine, so podman must be here.
const mainHost = engineHost();
const canRun = required || (hasPodman() && mainHost?.startsWith('unix://') === true && (await answers(dockerFromHost(mainHost))));
if (!canRun) console.warn('[hosts.int.test] skipped: no local podman engine answers; set SANDBOX_ENGINE_TESTS=1 to start it');

/**
 * A second podman API service on its own socket: a second "engine". It shares podman's storage
 * with the first (so either sees every container), which is why sandboxes carry a host label.
 */
class SecondEngine {
  proc: ChildProcess | undefined;
  readonly docker: Docker;
  constructor(readonly socket: string) {
    this.docker = dockerFromHost(`unix://${socket}`);
  }
  async start(): Promise<void> {
    // From /: conmon inherits the service's working directory (see scripts/podman-engine.sh).
    const proc = spawn('podman', ['system', 'service', '--time=0', `unix://${this.socket}`], { cwd: '/', stdio: 'ignore' });
    this.proc = proc;
    let failed: Error | undefined;
    proc.once('error', (err) => (failed = err));
    await waitFor(
      async () => {
        if (failed) throw failed;
        return answers(this.docker, 500);
      },
      30_000,
      `podman service on ${this.socket}`,
    );
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }
}

describe.skipIf(!canRun)('sandboxes on two real engines (SANDBOX_DOCKER_HOSTS)', { timeout: 120_000 }, () => {
  let docker: Docker;
  let image: string;
  let modelsDir: string;
  let second: SecondEngine;
  let runtime: MultiHostRuntime;
  let pool: SandboxPool;
  const owner = `hosts-${randomUUID().slice(0, 8)}`;

  const ours = async (host?: string) =>
    docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${owner}`, ...(host ? [`${HOST_LABEL}=${host}`] : [])] } });
  const labelledHost = async (id: string) => (await docker.getContainer(id).inspect()).Config.Labels[HOST_LABEL];
  async function chat(baseUrl: string, signal?: AbortSignal, onToken?: (t: string) => void): Promise<string> {
    let text = '';
    for await (const t of streamChat({
      baseUrl,
      model: 'llama3.1:8b',
      messages: [{ role: 'user', content: 'hi' }],
      numCtx: 4096,
      ...(signal ? { signal } : {}),
    })) {
      text += t;
      onToken?.(t);
    }
    return text;
  }

  beforeAll(async () => {
    if (required) startPodmanEngine();
    docker = dockerFromHost(mainHost ?? 'unix:///run/podman/podman.sock');
    await docker.ping();
    image = await ensureFakeOllamaImage(docker);
    modelsDir = mkdtempSync(join(tmpdir(), 'cv-models-'));
    chmodSync(modelsDir, 0o755);
    mkdirSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1'), { recursive: true });
    writeFileSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1/8b'), '{"schemaVersion":2}');
    second = new SecondEngine(`/run/cv-podman-${owner}.sock`);
    await second.start();

    const cfg = sandboxConfigFromEnv({
      SANDBOX_RUNTIME: 'docker',
      SANDBOX_DOCKER_HOSTS: `${mainHost ?? 'unix:///run/podman/podman.sock'}|capacity=1|name=a, unix://${second.socket}|capacity=2|name=b`,
      SANDBOX_IMAGE: image,
      SANDBOX_GUARD_IMAGE: image,
      SANDBOX_MODELS_DIR: modelsDir,
      SANDBOX_MEMORY_MB: '160',
      SANDBOX_MIN_WARM: '0',
      SANDBOX_OWNER: owner,
      SANDBOX_NETWORK: `cv-${owner}`,
      OLLAMA_NUM_CTX: '4096',
    });
    // Each engine's stand-in says where it runs; b's answers slowly, so a request can be cut off mid-stream.
    runtime = multiHostRuntime(cfg, undefined, { checkIntervalMs: 250, pingTimeoutMs: 1000, failuresToDrain: 2 }, (h) => ({
      pidsLimit: 64,
      readyTimeoutMs: 30_000,
      extraEnv: {
        FAKE_OLLAMA_TOKENS: JSON.stringify(['from', ` ${h.name}`, ...Array.from({ length: h.name === 'b' ? 60 : 0 }, () => '.')]),
        FAKE_OLLAMA_TOKEN_DELAY_MS: h.name === 'b' ? '50' : '0',
      },
    }));
    pool = createSandboxPool(cfg, runtime);
    await pool.start();
  }, 300_000);

  afterAll(async () => {
    await pool?.drain(5000).catch(() => undefined);
    await second?.stop();
    rmSync(second?.socket ?? '/nonexistent', { force: true });
    // Whatever a failure left (this run's owner only); the engines share storage, so one removes all.
    for (const c of await ours())
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const n of await docker.listNetworks({ filters: { label: [`${OWNER_LABEL}=${owner}`] } }))
      await docker
        .getNetwork(n.Name)
        .remove()
        .catch(() => undefined);
  });

  it('spreads users by free capacity, fails an engine over when it dies, and takes it back when it returns', async () => {
    // 1. Spread: b has two free slots, then a tie goes to a, then b again.
    const u1 = await pool.acquire('u1');
    const u2 = await pool.acquire('u2');
    const u3 = await pool.acquire('u3');
    expect([u1, u2, u3].map((l) => runtime.hostOf(l.instanceId))).toEqual(['b', 'a', 'b']);
    // The engines themselves say so: each container carries the label of the engine that made it.
    expect(await Promise.all([u1, u2, u3].map((l) => labelledHost(l.instanceId)))).toEqual(['b', 'a', 'b']);
    expect(await chat(u2.baseUrl)).toBe('from a');
    u2.release();
    u3.release();

    // 2. Engine b dies mid-request: its API service stops and the machine's containers with it.
    const ac = new AbortController();
    let firstToken!: () => void;
    const started = new Promise<void>((r) => (firstToken = r));
    const inflight = chat(u1.baseUrl, ac.signal, () => firstToken());
    await started;
    await second.stop();
    const onB = (await ours('b')).filter((c) => c.Labels['context-vault.sandbox'] === '1').map((c) => c.Id);
    expect(onB).toHaveLength(2);
    execFileSync('podman', ['kill', ...onB], { stdio: 'ignore' });
    // The in-flight request fails cleanly (an error, never a hang): the stream is cut.
    const outcome = await Promise.race([
      inflight.then(
        (t) => `completed: ${t}`,
        (e: Error) => `failed: ${e.message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('hung'), 15_000)),
    ]);
    expect(outcome).toMatch(/^failed: /);
    ac.abort();
    await waitFor(() => runtime.hosts().find((h) => h.name === 'b')?.up === false, 10_000, 'b drained');
    // u3's idle sandbox there is retired at once, u1's when the failed request lets go of it.
    await waitFor(() => pool.metrics().recycles.lost === 1, 10_000, "b's idle sandbox retired");
    u1.release({ error: true });
    expect(pool.metrics().recycles.lost).toBe(2);

    // 3. Chat keeps working: u1's next request gets a container on a (u2's idle one is replaced, not handed over).
    const u1again = await pool.acquire('u1');
    expect(runtime.hostOf(u1again.instanceId)).toBe('a');
    expect(await labelledHost(u1again.instanceId)).toBe('a');
    expect(u1again.instanceId).not.toBe(u2.instanceId);
    expect(await chat(u1again.baseUrl)).toBe('from a');
    expect(await pool.health()).toEqual({ ok: true });
    u1again.release();

    // 4. b answers again: its dead sandboxes are removed before it takes new ones.
    await second.start();
    await waitFor(() => runtime.hosts().find((h) => h.name === 'b')?.up === true, 20_000, 'b back');
    expect(await ours('b')).toEqual([]);
    const u3again = await pool.acquire('u3');
    expect(runtime.hostOf(u3again.instanceId)).toBe('b');
    expect((await chat(u3again.baseUrl)).startsWith('from b')).toBe(true);
    u3again.release();

    await pool.drain(5000);
    await waitFor(async () => (await ours()).length === 0, 15_000, 'every container removed');
    expect(await docker.listNetworks({ filters: { label: [`${OWNER_LABEL}=${owner}`] } })).toEqual([]);
  });
});
