import Docker from 'dockerode';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BenchResult } from './types.js';
import { DockerRuntime, OLLAMA_PORT, buildSandboxContainerSpec, dockerFromHost, prepareModelsDir } from '../sandbox/docker.js';
import { waitForOllama } from '../sandbox/ollama.js';
import { engineHost, ensureFakeOllamaImage } from '../test-support/sandbox/engine.js';

const ROUNDS = 5;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

/**
 * What the sandbox's network guard costs at start-up, on the real engine (rootful podman here):
 * `DockerRuntime.create()` (internal network, guard, one-shot firewall, then the Ollama stand-in
 * in the guard's namespace, until it answers) against the baseline of the same Ollama container
 * alone on its internal network with no guard (the design before the guard). Warm pools hide
 * this from users; it bounds how fast a pool refills. Skipped when no engine answers.
 */
export default async function run(): Promise<BenchResult[]> {
  const host = engineHost();
  if (!host) return [];
  const docker = dockerFromHost(host);
  try {
    await docker.ping();
  } catch {
    return [];
  }
  const image = await ensureFakeOllamaImage(docker);
  const modelsDir = mkdtempSync(join(tmpdir(), 'cv-bench-models-'));
  chmodSync(modelsDir, 0o755);
  prepareModelsDir(modelsDir);
  const owner = `bench-${randomUUID().slice(0, 8)}`;
  const opts = { image, guardImage: image, modelsDir, memoryMb: 256, owner, network: `cv-bench-${owner}`, pidsLimit: 64 };
  const rt = new DockerRuntime({ ...opts, docker });
  const guarded: number[] = [];
  const unguarded: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      const inst = await rt.create();
      guarded.push(performance.now() - t0);
      await rt.destroy(inst.id);

      t0 = performance.now();
      const remove = await startUnguarded(docker, opts, `${opts.network}-u${i}`);
      unguarded.push(performance.now() - t0);
      await remove();
    }
  } finally {
    await rt.removeAll().catch(() => undefined);
    rmSync(modelsDir, { recursive: true, force: true });
  }
  const value = median(guarded);
  const base = median(unguarded);
  return [
    {
      name: 'sandbox.start.guarded.p50',
      value: Number(value.toFixed(0)),
      unit: 'ms',
      baseline: { name: 'same container without guard p50', value: Number(base.toFixed(0)) },
      ratio: Number((base / value).toFixed(2)),
      target: 'the guard adds < 1500 ms to a start',
      pass: value - base < 1500,
    },
  ];
}

/** The baseline: one container on its own internal network, started until Ollama answers; resolves to its removal. */
async function startUnguarded(docker: Docker, opts: Parameters<typeof buildSandboxContainerSpec>[0], network: string): Promise<() => Promise<void>> {
  await docker.createNetwork({ Name: network, Driver: 'bridge', Internal: true });
  const spec = buildSandboxContainerSpec({ ...opts, network }, { name: `${network}-c`, instanceId: 'bench', networkMode: network });
  const c = await docker.createContainer(spec);
  const remove = async () => {
    await c.remove({ force: true });
    await docker.getNetwork(network).remove();
  };
  try {
    await c.start();
    const ip = (await c.inspect()).NetworkSettings.Networks[network]!.IPAddress;
    if (!(await waitForOllama(`http://${ip}:${OLLAMA_PORT}`, 30_000))) throw new Error('unguarded container did not answer');
    return remove;
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await run());
}
