import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SandboxPool, type Lease, type SandboxPoolOptions } from './pool.js';
import { PoolClosedError, PoolSaturatedError, PoolTimeoutError, SandboxStartError, AiOfflineError, NoModelError } from './errors.js';
import { createSandboxPool, sandboxConfigFromEnv } from './select.js';
import { ProcessRuntime, isAlive } from '../test-support/sandbox/process-runtime.js';
import { bundleFakeOllama } from '../test-support/sandbox/bundle.js';
import { waitFor } from '../test-support/sandbox/wait.js';
import { ollamaHealthy } from './ollama.js';
import { NoneRuntime } from './none.js';

const pools: SandboxPool[] = [];

function setup(opts: Partial<SandboxPoolOptions> = {}, rtOpts: { failCreates?: number } = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'cv-pool-'));
  const runtime = new ProcessRuntime({ stateDir, ...rtOpts });
  const sut = new SandboxPool(runtime, { minWarm: 1, max: 2, maxUses: 10, maxAgeMs: 60_000, queueMax: 8, acquireTimeoutMs: 10_000, ...opts });
  pools.push(sut);
  return { sut, runtime, stateDir };
}

const pidOf = (runtime: ProcessRuntime) => () => [...runtime.children.values()].map((c) => c.pid!);
const entryOf = (lease: Lease) => lease.id.split('#')[0];

beforeAll(async () => {
  await bundleFakeOllama();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.drain(1000)));
});

describe('SandboxPool with real processes', () => {
  it('keeps minWarm ready and leases a live Ollama', async () => {
    const { sut, runtime } = setup({ minWarm: 1 });
    await sut.start();
    await waitFor(() => sut.metrics().idle === 1, 10_000, 'warm');
    const lease = await sut.acquire('alice');
    expect(await ollamaHealthy(lease.baseUrl)).toBe(true);
    expect(runtime.children.size).toBeGreaterThanOrEqual(1);
    // A new warm container replaces the one just bound to alice.
    await waitFor(() => sut.metrics().idle === 1 && sut.metrics().leased === 1, 10_000, 'rewarm');
    expect(sut.metrics().acquireWaitMs.count).toBe(1);
    lease.release();
  });

  it('serves the same user again from the same container, then recycles after maxUses', async () => {
    const { sut, runtime } = setup({ minWarm: 1, max: 2, maxUses: 2 });
    await sut.start();
    const a1 = await sut.acquire('alice');
    const pidsBefore = pidOf(runtime)();
    a1.release();
    const a2 = await sut.acquire('alice');
    expect(entryOf(a2)).toBe(entryOf(a1));
    const url = a2.baseUrl;
    a2.release();
    await waitFor(() => sut.metrics().recycles.maxUses === 1, 5000, 'recycle');
    await waitFor(async () => !(await ollamaHealthy(url, 200)), 5000, 'old instance gone');
    const a3 = await sut.acquire('alice');
    expect(entryOf(a3)).not.toBe(entryOf(a1));
    // The port closes before the process has exited and been reaped, so wait for the pid too.
    await waitFor(() => pidsBefore.some((p) => !isAlive(p)), 5000, 'old process exited');
    a3.release();
  });

  it('recycles after maxAgeMs, at release and while idle', async () => {
    const { sut } = setup({ minWarm: 1, max: 2, maxAgeMs: 300 });
    await sut.start();
    const lease = await sut.acquire('alice');
    await new Promise((r) => setTimeout(r, 350));
    lease.release();
    await waitFor(() => sut.metrics().recycles.maxAge >= 1, 5000, 'maxAge at release');
    // Idle warm containers age out too and are replaced.
    await waitFor(() => sut.metrics().recycles.maxAge >= 2, 5000, 'maxAge while idle');
    expect(sut.metrics().lifetimesMs.count).toBeGreaterThanOrEqual(2);
    expect(sut.metrics().lifetimesMs.p50).toBeGreaterThanOrEqual(300);
  });

  it('destroys a container after an error or a cancelled stream', async () => {
    const { sut } = setup({ minWarm: 1 });
    await sut.start();
    const l1 = await sut.acquire('alice');
    l1.release({ error: true });
    await waitFor(async () => !(await ollamaHealthy(l1.baseUrl, 200)), 5000, 'errored instance gone');
    const l2 = await sut.acquire('alice');
    expect(entryOf(l2)).not.toBe(entryOf(l1));
    l2.release({ cancelled: true });
    l2.release({ cancelled: true }); // idempotent
    await waitFor(() => sut.metrics().recycles.cancelled === 1, 5000, 'cancel recycle');
    expect(sut.metrics().recycles.error).toBe(1);
    await waitFor(async () => !(await ollamaHealthy(l2.baseUrl, 200)), 5000, 'cancelled instance gone');
  });

  it('never lends a container that died while idle: it is replaced, for its user and for a new one', async () => {
    const { sut, runtime } = setup({ minWarm: 1, max: 2 });
    await sut.start();
    const first = await sut.acquire('alice');
    first.release();
    await waitFor(() => sut.metrics().idle === 2, 10_000, 'warm');
    // What an OOM kill of Ollama, or `docker kill`, leaves: the pool was told nothing.
    for (const child of runtime.children.values()) child.kill('SIGKILL');
    await waitFor(async () => !(await ollamaHealthy(first.baseUrl, 200)), 5000, 'killed');

    const again = await sut.acquire('alice');
    expect(await ollamaHealthy(again.baseUrl)).toBe(true);
    const other = await sut.acquire('bob');
    expect(await ollamaHealthy(other.baseUrl)).toBe(true);
    expect(sut.metrics().recycles.dead).toBe(2);
    again.release();
    other.release();
  });

  it('never lets one container serve two users', async () => {
    const { sut } = setup({ minWarm: 1, max: 1 });
    await sut.start();
    const a = await sut.acquire('alice');
    a.release();
    // The only container is alice's: bob's request evicts it and gets a fresh one.
    const b = await sut.acquire('bob');
    expect(entryOf(b)).not.toBe(entryOf(a));
    expect(sut.metrics().recycles.evicted).toBe(1);
    expect(await ollamaHealthy(a.baseUrl, 200)).toBe(false);
    b.release();

    // A random mixed workload: record which users each container ever served.
    const served = new Map<string, Set<string>>();
    const users = ['u1', 'u2', 'u3'];
    // What is asserted is who each container served, not how fast: a busy machine starts processes slowly.
    const { sut: sut2 } = setup({ minWarm: 1, max: 2, maxUses: 3, queueMax: 32, acquireTimeoutMs: 120_000 });
    await sut2.start();
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const user = users[i % users.length]!;
        const lease = await sut2.acquire(user);
        const set = served.get(entryOf(lease)!) ?? new Set();
        set.add(user);
        served.set(entryOf(lease)!, set);
        await new Promise((r) => setTimeout(r, 5));
        lease.release({ error: i % 7 === 0 });
      }),
    );
    for (const set of served.values()) expect(set.size).toBe(1);
    expect(served.size).toBeGreaterThan(2);
  }, 180_000);

  it('rejects with PoolSaturatedError when the queue is full', async () => {
    const { sut } = setup({ minWarm: 1, max: 1, queueMax: 2 });
    await sut.start();
    const held = await sut.acquire('alice');
    const q1 = sut.acquire('alice');
    const q2 = sut.acquire('bob');
    await expect(sut.acquire('carol')).rejects.toBeInstanceOf(PoolSaturatedError);
    expect(sut.metrics().queueDepth).toBe(2);
    held.release();
    const l1 = await q1; // FIFO: alice's queued request is served first, from her container
    expect(entryOf(l1)).toBe(entryOf(held));
    l1.release();
    const l2 = await q2;
    expect(entryOf(l2)).not.toBe(entryOf(held));
    l2.release();
  });

  it('rejects with PoolTimeoutError after acquireTimeoutMs, and honours an abort signal', async () => {
    const { sut } = setup({ minWarm: 1, max: 1, acquireTimeoutMs: 200 });
    await sut.start();
    // Warm first: on a loaded machine a start can take longer than this test's short timeout.
    await waitFor(() => sut.metrics().idle === 1, 10_000, 'warm');
    const held = await sut.acquire('alice');
    const t0 = Date.now();
    await expect(sut.acquire('bob')).rejects.toBeInstanceOf(PoolTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    const ac = new AbortController();
    const p = sut.acquire('bob', { signal: ac.signal });
    ac.abort(new Error('client gone'));
    await expect(p).rejects.toThrow('client gone');
    expect(sut.metrics().queueDepth).toBe(0);
    held.release();
  });

  it('removes orphans left by a server killed with SIGKILL', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'cv-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../test-support/sandbox/crash-server.ts'), stateDir, '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const { pids } = JSON.parse(line) as { pids: number[] };
    expect(pids).toHaveLength(2);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pids.every(isAlive)).toBe(true); // abandoned, still running

    const runtime = new ProcessRuntime({ stateDir });
    const sut = new SandboxPool(runtime, { minWarm: 1, max: 2, maxUses: 10, maxAgeMs: 60_000, queueMax: 4, acquireTimeoutMs: 5000 });
    pools.push(sut);
    await sut.start();
    expect(pids.some(isAlive)).toBe(false);
    await waitFor(() => sut.metrics().idle === 1, 10_000, 'warm after cleanup');
    expect(readdirSync(stateDir)).toHaveLength(1);
  });

  it('drains: refuses new work, waits for leases, destroys everything', async () => {
    const { sut, runtime, stateDir } = setup({ minWarm: 2, max: 2 });
    await sut.start();
    await waitFor(() => sut.metrics().idle === 2, 10_000, 'warm');
    const lease = await sut.acquire('alice');
    const pids = pidOf(runtime)();
    const queued = sut.acquire('bob');
    const queued2 = sut.acquire('carol');
    const draining = sut.drain(5000);
    await expect(queued2).rejects.toBeInstanceOf(PoolClosedError);
    await expect(sut.acquire('dave')).rejects.toBeInstanceOf(PoolClosedError);
    // bob got the other warm container before the drain started, or was refused: either is fine.
    await queued.then(
      (l) => l.release(),
      (err) => expect(err).toBeInstanceOf(PoolClosedError),
    );
    expect(await ollamaHealthy(lease.baseUrl)).toBe(true); // in-flight request keeps its sandbox
    setTimeout(() => lease.release(), 100);
    await draining;
    expect(pids.some(isAlive)).toBe(false);
    expect(readdirSync(stateDir)).toHaveLength(0);
    expect(sut.metrics().live).toBe(0);
    expect(await sut.ping()).toBe(false);
  });

  it('drain destroys leased containers once the deadline passes', async () => {
    const { sut, runtime } = setup({ minWarm: 1, max: 1 });
    await sut.start();
    const lease = await sut.acquire('alice');
    const pids = pidOf(runtime)();
    const t0 = Date.now();
    await sut.drain(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(pids.some(isAlive)).toBe(false);
    lease.release(); // late release is harmless
    expect(sut.metrics().recycles.drain).toBe(1);
  });

  it('reports warm-up failures through ping and metrics without throwing, then recovers', async () => {
    const { sut } = setup({ minWarm: 1, max: 1 }, { failCreates: 1 });
    await sut.start();
    await waitFor(() => sut.metrics().createFailures === 1, 5000, 'failure recorded');
    expect(await sut.ping()).toBe(false);
    expect(sut.metrics().lastError).toMatch(/injected/);
    // Demand does not wait for the back-off.
    const lease = await sut.acquire('alice');
    expect(await sut.ping()).toBe(true);
    lease.release();
  });

  it('fails the waiting request with SandboxStartError when its container cannot start', async () => {
    const { sut, runtime } = setup({ minWarm: 0, max: 1 });
    await sut.start();
    runtime.failNextCreates(1);
    await expect(sut.acquire('alice')).rejects.toBeInstanceOf(SandboxStartError);
  });

  it('answers AiOfflineError at once with the none runtime', async () => {
    const sut = new SandboxPool(new NoneRuntime(), { minWarm: 1, max: 2, maxUses: 10, maxAgeMs: 1000, queueMax: 4, acquireTimeoutMs: 1000 });
    pools.push(sut);
    await sut.start();
    await expect(sut.acquire('alice')).rejects.toBeInstanceOf(AiOfflineError);
    expect(await sut.ping()).toBe(false);
    expect(sut.metrics().createFailures).toBe(0);
  });
});

describe('a pool whose models directory has no model (issue 13)', () => {
  it('says "No model pulled" in its health and errors, and serves once the model is there', async () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'cv-models-'));
    const runtime = new ProcessRuntime({ stateDir: mkdtempSync(join(tmpdir(), 'cv-pool-')), env: { OLLAMA_MODELS: modelsDir } });
    const cfg = { ...sandboxConfigFromEnv({}), minWarm: 1, max: 1, acquireTimeoutMs: 10_000 };
    const sut = createSandboxPool(cfg, runtime);
    pools.push(sut);
    await sut.start();
    await waitFor(async () => !(await sut.health()).ok, 10_000, 'start failure');
    const health = await sut.health();
    expect(health).toMatchObject({ ok: false, code: 'no_model' });
    expect(!health.ok && health.message).toMatch(/^No model pulled: llama3\.1:8b .*npm run models -- pull llama3\.1:8b/);
    const err = await sut.acquire('alice').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoModelError);
    // `ollama pull` writes the manifest last; the next start finds the model.
    mkdirSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1'), { recursive: true });
    writeFileSync(join(modelsDir, 'manifests/registry.ollama.ai/library/llama3.1/8b'), '{}');
    const lease = await sut.acquire('alice');
    expect(await sut.health()).toEqual({ ok: true });
    lease.release();
  });
});
