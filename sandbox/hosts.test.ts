import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiHostRuntime, type MultiHostOptions } from './hosts.js';
import { SandboxPool, type SandboxPoolOptions } from './pool.js';
import { AiOfflineError, SandboxStartError } from './errors.js';
import { parseDockerHosts } from './config.js';
import { createSandboxPool, sandboxConfigFromEnv, selectRuntime } from './select.js';
import { DockerRuntime } from './docker.js';
import { ProcessRuntime, isAlive } from '../test-support/sandbox/process-runtime.js';
import { bundleFakeOllama } from '../test-support/sandbox/bundle.js';
import { streamChat } from './ollama.js';
import { waitFor } from '../test-support/sandbox/wait.js';

const pools: SandboxPool[] = [];

/** Two "engines" of real stand-in processes; the health timer is off, tests call check(). */
function fleet(capacities: { a: number; b: number }, poolOpts: Partial<SandboxPoolOptions> = {}, hostOpts: MultiHostOptions = {}) {
  const a = new ProcessRuntime({ stateDir: mkdtempSync(join(tmpdir(), 'cv-host-a-')), env: { FAKE_OLLAMA_TOKENS: JSON.stringify(['from', ' a']) } });
  const b = new ProcessRuntime({ stateDir: mkdtempSync(join(tmpdir(), 'cv-host-b-')), env: { FAKE_OLLAMA_TOKENS: JSON.stringify(['from', ' b']) } });
  const runtime = new MultiHostRuntime(
    [
      { name: 'a', capacity: capacities.a, runtime: a },
      { name: 'b', capacity: capacities.b, runtime: b },
    ],
    { checkIntervalMs: 3_600_000, failuresToDrain: 2, ...hostOpts },
  );
  const pool = new SandboxPool(runtime, {
    minWarm: 0,
    max: runtime.totalCapacity,
    maxUses: 10,
    maxAgeMs: 60_000,
    queueMax: 8,
    acquireTimeoutMs: 10_000,
    ...poolOpts,
  });
  pools.push(pool);
  return { a, b, runtime, pool };
}

async function chat(baseUrl: string): Promise<string> {
  let text = '';
  for await (const t of streamChat({ baseUrl, model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }], numCtx: 4096 })) text += t;
  return text;
}

beforeAll(async () => {
  await bundleFakeOllama();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.drain(1000)));
});

describe('SANDBOX_DOCKER_HOSTS', () => {
  it('parses engines with capacity, GPUs and names; a comma inside gpus= is not a separator', () => {
    const { hosts, problems } = parseDockerHosts(
      'unix:///run/a.sock|capacity=2|gpus=all, tcp://10.0.0.5:2376|capacity=4|gpus=0,1|name=big,https://gpu.example:2376|capacity=1|gpus=none',
    );
    expect(problems).toEqual([]);
    expect(hosts).toEqual([
      { name: 'h1', url: 'unix:///run/a.sock', capacity: 2, gpus: 'all' },
      { name: 'big', url: 'tcp://10.0.0.5:2376', capacity: 4, gpus: '0,1' },
      { name: 'h3', url: 'https://gpu.example:2376', capacity: 1, gpus: 'none' },
    ]);
    expect(sandboxConfigFromEnv({ SANDBOX_DOCKER_HOSTS: 'unix:///run/a.sock|capacity=3' }).dockerHosts).toEqual([
      { name: 'h1', url: 'unix:///run/a.sock', capacity: 3 },
    ]);
    expect(sandboxConfigFromEnv({ SANDBOX_DOCKER_HOSTS: '' }).dockerHosts).toBeUndefined();
  });

  it('names every problem under the variable', () => {
    const bad = () => sandboxConfigFromEnv({ SANDBOX_DOCKER_HOSTS: 'ftp://x|capacity=2, unix:///a.sock, unix:///a.sock|capacity=0|color=red' });
    expect(bad).toThrow(/SANDBOX_DOCKER_HOSTS/);
    const messages = (() => {
      try {
        bad();
        return [];
      } catch (err) {
        return (err as { issues: Array<{ message: string }> }).issues.map((i) => i.message);
      }
    })();
    expect(messages).toEqual([
      'entry 1: "ftp://x" is not unix:///path, tcp://host:port or http(s)://host:port',
      'entry 2: capacity=N is required',
      'entry 3: capacity must be a whole number from 1 to 1000',
      'entry 3: unknown option "color" (capacity, gpus, name)',
      'the engine unix:///a.sock is listed twice',
    ]);
    expect(parseDockerHosts('unix:///a|capacity=1|name=x, unix:///b|capacity=1|name=x').problems).toEqual(['the name x is used twice']);
  });

  it('docker on several hosts: one runtime per engine, with its GPUs; the capacities size the pool', async () => {
    const cfg = sandboxConfigFromEnv({
      SANDBOX_RUNTIME: 'docker',
      SANDBOX_GPUS: 'all',
      SANDBOX_MIN_WARM: '5',
      SANDBOX_DOCKER_HOSTS: 'unix:///run/cv-a.sock|capacity=1, unix:///run/cv-b.sock|capacity=2|gpus=none|name=cpu',
    });
    const runtime = await selectRuntime(cfg);
    expect(runtime).toBeInstanceOf(MultiHostRuntime);
    const multi = runtime as MultiHostRuntime;
    expect(multi.hosts().map((h) => [h.name, h.capacity])).toEqual([
      ['h1', 1],
      ['cpu', 2],
    ]);
    const members = (multi as unknown as { states: Array<{ runtime: DockerRuntime }> }).states.map((s) => s.runtime);
    expect(members.map((m) => m.containerSpec('n', 'net', 'g').HostConfig?.DeviceRequests)).toEqual([
      [{ Driver: '', Capabilities: [['gpu']], Count: -1 }],
      undefined,
    ]);
    expect(members[0]!.containerSpec('n', 'net', 'g').Labels).toMatchObject({ 'context-vault.host': 'h1' });
    // One fleet, one instance id: engines sharing storage never take each other's sandboxes for orphans.
    expect(new Set(members.map((m) => m.instanceId)).size).toBe(1);
    const pool = createSandboxPool(cfg, runtime);
    expect(pool.metrics().live).toBe(0);
    // max = 3, and minWarm is clamped to it.
    const opts = (pool as unknown as { opts: SandboxPoolOptions }).opts;
    expect([opts.max, opts.minWarm]).toEqual([3, 3]);
  });
});

describe('MultiHostRuntime placement and draining (real stand-in processes)', () => {
  it('places by free capacity and never beyond it', async () => {
    const { runtime, pool } = fleet({ a: 1, b: 2 });
    await pool.start();
    const leases = [];
    for (const user of ['u1', 'u2', 'u3']) leases.push(await pool.acquire(user));
    // b had the most free slots (2 vs 1), then a tie goes to the first listed, then b again.
    expect(leases.map((l) => runtime.hostOf(l.instanceId))).toEqual(['b', 'a', 'b']);
    expect(runtime.hosts().map((h) => h.live)).toEqual([1, 2]);
    expect(runtime.freeSlots()).toBe(0);
    expect(await Promise.all(leases.map((l) => chat(l.baseUrl)))).toEqual(['from b', 'from a', 'from b']);
    // Full: a fourth user waits; nothing is started beyond the capacities.
    const fourth = pool.acquire('u4');
    await waitFor(() => pool.metrics().queueDepth === 1, 5000, 'u4 queued');
    expect(pool.metrics()).toMatchObject({ live: 3, starting: 0 });
    // u2's container is never handed to u4: it is replaced, on the engine whose slot it freed.
    leases[1]!.release();
    const l4 = await fourth;
    expect(l4.instanceId).not.toBe(leases[1]!.instanceId);
    expect(runtime.hostOf(l4.instanceId)).toBe('a');
    expect(pool.metrics().recycles.evicted).toBe(1);
    expect(await pool.acquire('u5', { signal: AbortSignal.timeout(200) }).catch((e: unknown) => (e as Error).name)).toBe('TimeoutError');
    for (const l of [...leases, l4]) l.release();
  });

  it('drains an engine that stops answering: idle sandboxes are replaced elsewhere, an in-flight lease is retired, the user gets a healthy host', async () => {
    const { a, b, runtime, pool } = fleet({ a: 2, b: 3 }, {}, { failuresToDrain: 2 });
    await pool.start();
    const onB = await pool.acquire('bob');
    const onA = await pool.acquire('alice');
    const idleOnB = await pool.acquire('carol');
    expect([onB, onA, idleOnB].map((l) => runtime.hostOf(l.instanceId))).toEqual(['b', 'a', 'b']);
    idleOnB.release();
    const bPids = [...b.children.values()].map((c) => c.pid!);

    // The host dies with its processes: bob's request fails on its own.
    b.goDown({ killInstances: true });
    await expect(chat(onB.baseUrl)).rejects.toThrow();
    await runtime.check();
    expect(runtime.hosts().find((h) => h.name === 'b')!.up).toBe(true); // one failure is not enough
    await runtime.check();
    expect(runtime.hosts().map((h) => [h.name, h.up])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(runtime.isLost(onB.instanceId)).toBe(true);
    expect(runtime.freeSlots()).toBe(1);

    // carol's idle sandbox on b is retired at once; bob's lease when he releases it.
    await waitFor(() => pool.metrics().recycles.lost === 1, 5000, 'idle sandbox on b retired');
    onB.release({ error: true });
    expect(pool.metrics().recycles.lost).toBe(2);

    // Both get a sandbox on a, and chat works; alice never moved.
    const bob2 = await pool.acquire('bob');
    expect(runtime.hostOf(bob2.instanceId)).toBe('a');
    expect(await chat(bob2.baseUrl)).toBe('from a');
    expect(await chat(onA.baseUrl)).toBe('from a');
    expect(runtime.hostOf(onA.instanceId)).toBe('a');
    expect(await pool.health()).toEqual({ ok: true });
    bob2.release();
    onA.release();

    // b answers again: what it left is removed before it takes new sandboxes.
    b.comeBack();
    await runtime.check();
    expect(runtime.hosts().map((h) => [h.name, h.up, h.live])).toEqual([
      ['a', true, 2],
      ['b', true, 0],
    ]);
    expect(b.children.size).toBe(0);
    expect(bPids.some((p) => isAlive(p))).toBe(false);
    const dave = await pool.acquire('dave');
    expect(runtime.hostOf(dave.instanceId)).toBe('b');
    dave.release();
    expect(a.children.size).toBe(2);
  });

  it('a create on an engine that just died goes to the next one (before any health check noticed)', async () => {
    const { b, runtime, pool } = fleet({ a: 1, b: 2 });
    await pool.start();
    b.goDown();
    const lease = await pool.acquire('alice');
    expect(runtime.hostOf(lease.instanceId)).toBe('a');
    expect(runtime.hosts().map((h) => h.up)).toEqual([true, false]);
    expect(pool.metrics().createFailures).toBe(0);
    expect(await chat(lease.baseUrl)).toBe('from a');
    lease.release();
  });

  it('with every engine down, chat fails cleanly as offline (waiting requests too) and health says so', async () => {
    const { a, b, runtime, pool } = fleet({ a: 1, b: 1 }, {}, { failuresToDrain: 1 });
    await pool.start();
    const alice = await pool.acquire('alice');
    const bob = await pool.acquire('bob');
    // Full: carol waits for a slot.
    const carol = pool.acquire('carol').catch((e: unknown) => e);
    await waitFor(() => pool.metrics().queueDepth === 1, 5000, 'carol queued');
    a.goDown({ killInstances: true });
    b.goDown({ killInstances: true });
    await runtime.check();
    expect(runtime.available()).toBe(false);
    // The health check noticed: the one waiting learns at once, and so does the next.
    expect(await carol).toBeInstanceOf(AiOfflineError);
    expect(await pool.acquire('dave').catch((e: unknown) => e)).toMatchObject({ code: 'ai_offline', message: 'The AI is offline: no sandbox host answers.' });
    const err = await runtime.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AiOfflineError);
    expect((err as Error).message).toBe('The AI is offline: none of the 2 sandbox hosts answers.');
    expect(await pool.ping()).toBe(false);
    expect(await pool.health()).toMatchObject({ ok: false, code: 'ai_offline' });
    alice.release({ error: true });
    bob.release({ error: true });
    // Back again: placements resume, and the dead sandboxes were removed first.
    a.comeBack();
    await runtime.check();
    expect(runtime.hosts().map((h) => [h.name, h.up, h.live])).toEqual([
      ['a', true, 0],
      ['b', false, 1],
    ]);
    const lease = await pool.acquire('alice');
    expect(runtime.hostOf(lease.instanceId)).toBe('a');
    expect(await chat(lease.baseUrl)).toBe('from a');
    lease.release();
  });

  it('a failure that is not the engine (the engine answers) is not retried elsewhere', async () => {
    const { a, runtime } = fleet({ a: 2, b: 1 });
    a.failNextCreates(1);
    const err = await runtime.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxStartError);
    expect(runtime.hosts().map((h) => [h.up, h.live, h.creating])).toEqual([
      [true, 0, 0],
      [true, 0, 0],
    ]);
  });

  it('the health timer drains on its own', async () => {
    const { b, runtime, pool } = fleet({ a: 1, b: 1 }, {}, { checkIntervalMs: 20, failuresToDrain: 2 });
    await pool.start();
    b.goDown();
    await waitFor(() => !runtime.hosts()[1]!.up, 5000, 'b drained by the timer');
    b.comeBack();
    await waitFor(() => runtime.hosts()[1]!.up, 5000, 'b back');
  });
});
