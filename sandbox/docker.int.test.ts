import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DockerRuntime, OWNER_LABEL, SANDBOX_LABEL, type DockerRuntimeOptions } from './docker.js';
import { GUARD_LABEL } from './guard.js';
import { SandboxPool } from './pool.js';
import { streamChat } from './ollama.js';
import { ImageMissingError, NoModelError, SandboxStartError } from './errors.js';
import { createSandboxPool, sandboxConfigFromEnv } from './select.js';
import { PullRefusedError, ensureImage, pullContainerName, pullModel } from './models.js';
import { PassThrough } from 'node:stream';
import { waitFor } from '../test-support/sandbox/wait.js';
import { connectEngine, engineSkipReason, ensureFakeOllamaImage, execIn } from '../test-support/sandbox/engine.js';

// CI sets SANDBOX_ENGINE_TESTS=1, which makes the engine a requirement (test-support/sandbox/engine.ts).
const skipReason = await engineSkipReason('docker.int.test');

/** A host address that is not on any container bridge (where Postgres or the API would listen). */
function hostPrimaryIPv4(): string | undefined {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (/^(lo|podman|cni|veth|docker|br-)/.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

// Generous: each blocked probe waits out its timeout, and CI runs other suites alongside.
describe.skipIf(!!skipReason)('docker runtime against a real engine', { timeout: 180_000 }, () => {
  let docker: Docker;
  let image: string;
  let modelsDir: string;
  const owner = `test-${randomUUID().slice(0, 8)}`;
  const network = `cv-test-${owner}`;
  const runtimes: DockerRuntime[] = [];
  const extraContainers: string[] = [];
  // Two host services on every address: the app's HTTP port (HOST=0.0.0.0) and another one.
  let appPort = 0;
  let otherPort = 0;
  const listeners: Server[] = [];

  const runtime = (o: Partial<DockerRuntimeOptions> = {}) => {
    const rt = new DockerRuntime({
      docker,
      image,
      guardImage: image,
      modelsDir,
      memoryMb: 160,
      network,
      owner,
      model: 'llama3.1:8b',
      numCtx: 4096,
      pidsLimit: 64,
      readyTimeoutMs: 30_000,
      extraEnv: { FAKE_OLLAMA_WRITE_KEY: '1', FAKE_OLLAMA_TOKENS: JSON.stringify(['Hello', ' from', ' a', ' container']) },
      ...o,
    });
    runtimes.push(rt);
    return rt;
  };
  const sh = (id: string, script: string) => execIn(docker, id, ['sh', '-c', script]);
  const ours = async () => docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_LABEL}=${owner}`] } });
  const guards = async () => docker.listContainers({ all: true, filters: { label: [GUARD_LABEL, `${OWNER_LABEL}=${owner}`] } });
  const state = async (baseUrl: string) =>
    (await (await fetch(`${baseUrl}/__fake/state`)).json()) as {
      env: Record<string, string>;
      uid: number;
      loads: unknown[];
      requests: Array<{ path: string; body: { options?: unknown } }>;
    };
  /** A models directory as `ollama pull` leaves it: blobs plus one manifest per model. */
  const pulledModelsDir = (...models: Array<[string, string]>) => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-models-'));
    // The sandbox runs as nobody: the weights must be readable by all, as `ollama pull` leaves them.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'blobs'));
    writeFileSync(join(dir, 'blobs', `sha256-${'0'.repeat(64)}`), 'not really weights');
    for (const [name, tag] of models) {
      mkdirSync(join(dir, 'manifests/registry.ollama.ai/library', name), { recursive: true });
      writeFileSync(join(dir, 'manifests/registry.ollama.ai/library', name, tag), '{"schemaVersion":2}');
    }
    return dir;
  };

  beforeAll(async () => {
    docker = await connectEngine(); // with SANDBOX_ENGINE_TESTS=1 an unreachable engine fails here
    image = await ensureFakeOllamaImage(docker);
    modelsDir = pulledModelsDir(['llama3.1', '8b']);
    for (let i = 0; i < 2; i++) {
      const l = createServer((s) => s.end('host service\n'));
      await new Promise<void>((r) => l.listen(0, '0.0.0.0', () => r()));
      listeners.push(l);
    }
    appPort = (listeners[0]!.address() as { port: number }).port;
    otherPort = (listeners[1]!.address() as { port: number }).port;
  }, 300_000);

  afterAll(async () => {
    for (const rt of runtimes) await rt.removeAll().catch(() => undefined);
    for (const id of extraContainers)
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    // A failed test's debris (this run's owner only), so it cannot skew the next run.
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${owner}`] } })) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    const leftNets = await docker.listNetworks({ filters: { label: [`${OWNER_LABEL}=${owner}`] } });
    if (leftNets.length) console.warn(`[docker.int.test] networks left: ${leftNets.map((n) => n.Name).join(', ')}`);
    for (const n of leftNets)
      await docker
        .getNetwork(n.Name)
        .remove()
        .catch(() => undefined);
    for (const l of listeners) l.close();
  });

  it('creates a locked-down container that answers like Ollama', async () => {
    const rt = runtime();
    const inst = await rt.create();
    const info = await docker.getContainer(inst.id).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.LogConfig?.Type).toBe('none');
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Env.some((e) => e.startsWith('OLLAMA_DEBUG'))).toBe(false);
    expect(info.Config.Env).toContain('OLLAMA_NOHISTORY=1');
    const tokens: string[] = [];
    for await (const t of streamChat({ baseUrl: inst.baseUrl, model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }], numCtx: 4096 }))
      tokens.push(t);
    expect(tokens.join('')).toBe('Hello from a container');
    await rt.destroy(inst.id);
    // A firewall container's removal is not awaited by the runtime: wait for it.
    await waitFor(async () => (await guards()).length === 0, 10_000, 'guards removed');
  });

  it('proves the sandbox from inside: nobody, read-only root, noexec tmpfs, no capabilities, read-only models', async () => {
    const rt = runtime();
    const inst = await rt.create();
    expect((await sh(inst.id, 'id -u')).stdout.trim()).toBe('65534');
    const rootWrite = await sh(inst.id, 'touch /x || exit 3; echo wrote');
    expect(rootWrite.code).not.toBe(0);
    expect(rootWrite.stderr).toMatch(/Read-only file system|Permission denied/);
    expect((await sh(inst.id, 'echo x > /tmp/ok && cat /tmp/ok')).stdout.trim()).toBe('x');

    const mounts = (await sh(inst.id, 'cat /proc/mounts')).stdout;
    const tmp = /^tmpfs \/tmp tmpfs (\S+)/m.exec(mounts)?.[1]?.split(',') ?? [];
    expect(tmp).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    expect(tmp.some((o) => o.startsWith('size='))).toBe(true);
    expect(mounts).toMatch(/^\S+ \/models \S+ ro[,\s]/m);
    // A binary dropped into the only writable place cannot be run.
    const dropped = await sh(inst.id, 'cp /bin/busybox /tmp/bb && /tmp/bb echo ran; echo "rc=$?"');
    expect(dropped.stdout).not.toContain('ran');
    expect(dropped.stdout + dropped.stderr).toMatch(/Permission denied|rc=126/);
    // Ollama's key lands in $HOME/.ollama, on the /tmp tmpfs.
    const key = await sh(inst.id, 'ls /tmp/.ollama/id_ed25519 && stat -f -c %T /tmp/.ollama');
    expect(key.stdout).toMatch(/id_ed25519\s+tmpfs/);

    const models = await sh(inst.id, 'ls /models/blobs; touch /models/new || echo refused');
    expect(models.stdout).toContain('sha256-');
    expect(models.stdout).toContain('refused');

    const status = (await sh(inst.id, 'cat /proc/self/status')).stdout;
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^CapBnd:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    // The guard's rules hold against the model process: it has no right to change them.
    expect((await sh(inst.id, 'iptables -P OUTPUT ACCEPT 2>&1; echo "rc=$?"')).stdout).not.toMatch(/rc=0/);
    await rt.destroy(inst.id);
  });

  it('the sandbox can open no connection: not the app port, not other host ports, not another sandbox, not the internet', async () => {
    const rt = runtime();
    const [a, b] = await Promise.all([rt.create(), rt.create()]);
    const probe = async (ip: string, port: number) => (await sh(a.id, `echo | timeout 3 nc ${ip} ${port} && echo CONNECTED`)).stdout;
    expect(await probe('1.1.1.1', 80)).not.toContain('CONNECTED');
    expect((await sh(a.id, 'ip route')).stdout).not.toMatch(/default/);
    const targets: string[] = [];
    const hostIp = hostPrimaryIPv4();
    if (hostIp) targets.push(hostIp);
    // The host owns each bridge's gateway address: what an unguarded sandbox reaches host services by.
    const route = (await sh(a.id, 'ip route')).stdout;
    const subnet = /src (\d+\.\d+\.\d+)\.\d+/.exec(route)?.[1];
    expect(subnet).toBeTruthy();
    targets.push(`${subnet}.1`);
    for (const ip of targets) {
      for (const port of [appPort, otherPort]) expect(await probe(ip, port), `${ip}:${port}`).not.toContain('CONNECTED');
    }
    expect(await probe(new URL(b.baseUrl).hostname, 11434)).not.toContain('CONNECTED');

    // The app reaches the model on its port, and only there: a listener the sandbox opens on
    // another port stays unreachable.
    const res = await fetch(`${a.baseUrl}/api/version`);
    expect(res.status).toBe(200);
    await sh(a.id, '(nc -l -p 8081 -e echo hi >/dev/null 2>&1 &) ; sleep 0.3; echo ok');
    const other = await new Promise<string>((resolve) => {
      const s = connectTcp({ host: new URL(a.baseUrl).hostname, port: 8081, timeout: 2000 });
      s.on('connect', () => (s.destroy(), resolve('CONNECTED')));
      s.on('timeout', () => (s.destroy(), resolve('timeout')));
      s.on('error', (e) => resolve(e.message));
    });
    expect(other).not.toBe('CONNECTED');
    await Promise.all([rt.destroy(a.id), rt.destroy(b.id)]);
  });

  it("in compose the app joins each sandbox network: it reaches the model, the sandbox cannot reach the app's port", async () => {
    // A stand-in for the app's container, serving HTTP on 8080 on every address, as the app does.
    const app = await docker.createContainer({
      Image: image,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['mkdir -p /tmp/www && echo app > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
      Labels: { [OWNER_LABEL]: owner },
      HostConfig: { Tmpfs: { '/tmp': 'rw,size=1m' } },
    });
    extraContainers.push(app.id);
    await app.start();
    const rt = runtime({ attachContainer: app.id });
    const inst = await rt.create();
    const net = (await docker.getContainer(app.id).inspect()).NetworkSettings.Networks;
    const sandboxNet = Object.keys(net).find((n) => n.startsWith(network));
    expect(sandboxNet).toBeTruthy();
    const appIp = net[sandboxNet!]!.IPAddress;
    // busybox nc rather than its wget, which crashes in this image.
    const get = (id: string, host: string, port: number) => sh(id, `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc ${host} ${port}; echo "rc=$?"`);
    const fromApp = await get(app.id, new URL(inst.baseUrl).hostname, 11434);
    expect(fromApp.stdout).toContain('Ollama is running');
    expect((await get(app.id, '127.0.0.1', 8080)).stdout).toContain('200 OK');
    const toApp = await get(inst.id, appIp, 8080);
    expect(toApp.stdout).not.toContain('HTTP/1');
    // Nor over IPv6: every interface of an IPv6 kernel has a link-local address.
    const ifaces = (await sh(app.id, 'ip -o addr')).stdout;
    const dev = new RegExp(`^\\d+: (\\S+?)(?:@\\S+)?\\s+inet ${appIp.replace(/\./g, '\\.')}/`, 'm').exec(ifaces)?.[1];
    const ll = dev ? new RegExp(`^\\d+: ${dev}\\s+inet6 (fe80::[0-9a-f:]+)/`, 'm').exec(ifaces)?.[1] : undefined;
    if (ll) {
      // The probe itself works: the app reaches its own link-local address.
      expect((await get(app.id, `${ll}%${dev}`, 8080)).stdout).toContain('200 OK');
      expect((await get(inst.id, `${ll}%eth0`, 8080)).stdout).not.toContain('HTTP/1');
    } else {
      console.warn('[docker.int.test] no IPv6 link-local address on the sandbox network; IPv6 probe skipped');
    }
    await rt.destroy(inst.id);
    // Disconnected again once the sandbox is gone.
    expect(Object.keys((await docker.getContainer(app.id).inspect()).NetworkSettings.Networks).some((n) => n.startsWith(network))).toBe(false);
  });

  it('never starts the model without its firewall', async () => {
    const rt = runtime({ guardImage: 'localhost/busybox:local' });
    const err = await rt.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxStartError);
    expect((err as Error).message).toMatch(/firewall failed .*iptables/);
    expect(await ours()).toHaveLength(0);
    // A firewall container's removal is not awaited by the runtime: wait for it.
    await waitFor(async () => (await guards()).length === 0, 10_000, 'guards removed');
  });

  it('the runner gets the environment that bounds it: no cloud, one context, no RAM prompt cache, no GPU unless asked', async () => {
    const rt = runtime();
    const inst = await rt.create();
    const { env, uid } = await state(inst.baseUrl);
    expect(uid).toBe(65534);
    expect(env).toMatchObject({ OLLAMA_NO_CLOUD: '1', OLLAMA_CONTEXT_LENGTH: '4096', LLAMA_ARG_CACHE_RAM: '0', HOME: '/tmp' });
    // The image says NVIDIA_VISIBLE_DEVICES=all, as ollama/ollama does.
    expect(env.NVIDIA_VISIBLE_DEVICES).toBe('void');
    expect(Object.keys(env).some((k) => k.startsWith('OLLAMA_DEBUG'))).toBe(false);
    await rt.destroy(inst.id);
  });

  it('an empty models directory still starts (blobs/ and manifests/ are made), and health says "No model pulled"', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cv-empty-'));
    chmodSync(parent, 0o755);
    const empty = join(parent, 'models');
    const rt = runtime({ modelsDir: empty });
    const inst = await rt.create();
    expect(readdirSync(empty).sort()).toEqual(['blobs', 'manifests']);
    await rt.destroy(inst.id);

    const cfg = { ...sandboxConfigFromEnv({}), minWarm: 1, max: 1, acquireTimeoutMs: 30_000 };
    const sut = createSandboxPool(cfg, runtime({ modelsDir: empty }));
    await sut.start();
    await waitFor(async () => !(await sut.health()).ok, 60_000, 'no model reported');
    const health = await sut.health();
    expect(health, JSON.stringify(health)).toMatchObject({ ok: false, code: 'no_model' });
    expect(!health.ok && health.message).toMatch(/^No model pulled: llama3\.1:8b/);
    expect(await sut.acquire('alice').catch((e: unknown) => e)).toBeInstanceOf(NoModelError);
    await sut.drain(5000);
    expect(await ours()).toHaveLength(0);
  });

  it('preloads with the options of every chat: the model loads once', async () => {
    const cfg = { ...sandboxConfigFromEnv({}), numCtx: 4096, minWarm: 1, max: 1 };
    const sut = createSandboxPool(cfg, runtime());
    await sut.start();
    const lease = await sut.acquire('alice');
    for await (const _ of streamChat({ baseUrl: lease.baseUrl, model: cfg.model, messages: [{ role: 'user', content: 'hi' }], numCtx: cfg.numCtx })) void _;
    const s = await state(lease.baseUrl);
    const sent = s.requests.filter((r) => r.path === '/api/generate' || r.path === '/api/chat').map((r) => r.body.options);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual(sent[1]);
    expect(s.loads).toEqual([{ model: 'llama3.1:8b', numCtx: 4096 }]);
    lease.release();
    await sut.drain(5000);
  });

  it('reports a missing image by name', async () => {
    const rt = runtime({ image: 'localhost/cv-no-such-ollama:0.0.0' });
    const err = await rt.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageMissingError);
    expect((err as ImageMissingError).code).toBe('image_missing');
    expect((err as Error).message).toContain('docker pull localhost/cv-no-such-ollama:0.0.0');
    expect(await rt.missingImages()).toEqual(['localhost/cv-no-such-ollama:0.0.0']);
    const noGuard = runtime({ guardImage: 'localhost/cv-no-such-guard:0.0.0' });
    const guardErr = await noGuard.create().catch((e: unknown) => e);
    expect(guardErr).toBeInstanceOf(ImageMissingError);
    expect((guardErr as Error).message).toMatch(/guard image localhost\/cv-no-such-guard:0\.0\.0 .*docker compose build/);
    expect(await ours()).toHaveLength(0);
    // A firewall container's removal is not awaited by the runtime: wait for it.
    await waitFor(async () => (await guards()).length === 0, 10_000, 'guards removed');
  });

  it('a cancelled stream destroys its container, which is never used again', async () => {
    const rt = runtime({ extraEnv: { FAKE_OLLAMA_TOKENS: JSON.stringify(Array.from({ length: 400 }, (_, i) => `t${i} `)), FAKE_OLLAMA_TOKEN_DELAY_MS: '20' } });
    const sut = new SandboxPool(rt, { minWarm: 1, max: 2, maxUses: 10, maxAgeMs: 60_000, queueMax: 4, acquireTimeoutMs: 30_000 });
    await sut.start();
    const l1 = await sut.acquire('alice');
    const ac = new AbortController();
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const t of streamChat({
          baseUrl: l1.baseUrl,
          model: 'llama3.1:8b',
          messages: [{ role: 'user', content: 'long' }],
          numCtx: 4096,
          signal: ac.signal,
        })) {
          got.push(t);
          if (got.length === 3) ac.abort(new Error('client went away'));
        }
      })(),
    ).rejects.toThrow('client went away');
    l1.release({ cancelled: true });
    await waitFor(
      () =>
        docker
          .getContainer(l1.instanceId)
          .inspect()
          .then(
            () => false,
            () => true,
          ),
      15_000,
      'cancelled container removed',
    );
    const l2 = await sut.acquire('alice');
    expect(l2.instanceId).not.toBe(l1.instanceId);
    expect(sut.metrics().recycles.cancelled).toBe(1);
    l2.release();
    await sut.drain(5000);
  });

  it('pulls one at a time, never under a sandbox serving that model, and no sandbox starts during a pull', async () => {
    const sink = () => new PassThrough().resume();
    const dir = pulledModelsDir(['llama3.1', '8b']);
    const pullOpts = { image, modelsDir: dir, owner, model: 'llama3.1:8b' };
    const rt = runtime({ modelsDir: dir });
    const inst = await rt.create();
    const refused = await pullModel(docker, pullOpts, sink(), sink()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PullRefusedError);
    expect((refused as Error).message).toMatch(/1 sandbox\(es\) are serving llama3\.1:8b.*Stop the app first/);
    // Refused before anything ran: no pull container is left.
    await expect(docker.getContainer(pullContainerName(owner)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await rt.destroy(inst.id);

    // A pull in progress (its container exists): a second pull and new sandboxes wait for it.
    const running = await docker.createContainer({
      name: pullContainerName(owner),
      Image: image,
      Labels: { 'context-vault.models-pull': '1', [OWNER_LABEL]: owner, 'context-vault.model': 'llama3.1:8b' },
    });
    extraContainers.push(running.id);
    const second = await pullModel(docker, { ...pullOpts, model: 'qwen2.5:7b' }, sink(), sink()).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(PullRefusedError);
    expect((second as Error).message).toMatch(/Another model pull is running/);
    const blocked = await rt.create().catch((e: unknown) => e);
    expect(blocked).toMatchObject({ code: 'model_pulling' });
    expect((blocked as Error).message).toMatch(/being pulled \(llama3\.1:8b\)/);
    await running.remove({ force: true });

    // With nothing serving it, the pull runs (this image has no ollama binary: exit 127) and cleans up.
    expect(await pullModel(docker, pullOpts, sink(), sink())).toBe(127);
    await expect(docker.getContainer(pullContainerName(owner)).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('npm run models pulls the sandbox image only when it is missing, and names it when it cannot', async () => {
    const out = new PassThrough().resume();
    expect(await ensureImage(docker, image, out)).toBe('present');
    // No registry is reachable here: the failure names the image.
    await expect(ensureImage(docker, 'localhost:1/cv-no-such-ollama:0.0.0', out)).rejects.toThrow(
      /could not pull image localhost:1\/cv-no-such-ollama:0\.0\.0/,
    );
  });

  it('the pids limit stops a fork bomb', async () => {
    const rt = runtime();
    const inst = await rt.create();
    const bomb = await sh(inst.id, 'i=0; while [ $i -lt 500 ]; do sleep 60 & i=$((i+1)); done; echo started=$i');
    expect(bomb.stdout).not.toContain('started=500');
    expect(bomb.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    await rt.destroy(inst.id);
  });

  it('the memory limit kills a process that exceeds it (exit 137)', async () => {
    const rt = runtime();
    const inst = await rt.create();
    const hog = await sh(inst.id, 'exec node -e "const a=[];for(;;)a.push(Buffer.alloc(1e7,1))"');
    expect(hog.code).toBe(137);
    await rt.destroy(inst.id);
  });

  it('the pool leases, recycles and removes real containers; nothing survives recycling', async () => {
    const rt = runtime();
    const sut = new SandboxPool(rt, { minWarm: 1, max: 2, maxUses: 1, maxAgeMs: 60_000, queueMax: 4, acquireTimeoutMs: 30_000 });
    await sut.start();
    const l1 = await sut.acquire('alice');
    expect((await sh(l1.instanceId, 'echo secret > /tmp/s && mkdir -p /tmp/.ollama && echo q > /tmp/.ollama/history && echo ok')).stdout).toContain('ok');
    l1.release();
    const l2 = await sut.acquire('alice');
    expect(l2.instanceId).not.toBe(l1.instanceId);
    expect((await sh(l2.instanceId, 'cat /tmp/s /tmp/.ollama/history 2>&1; echo done')).stdout).not.toMatch(/secret|^q$/m);
    // Recycling removes in the background; the container must be gone shortly after release.
    await waitFor(
      () =>
        docker
          .getContainer(l1.instanceId)
          .inspect()
          .then(
            () => false,
            () => true,
          ),
      10_000,
      'recycled container removed',
    );
    const l3 = await sut.acquire('bob');
    expect(l3.instanceId).not.toBe(l2.instanceId);
    l2.release({ error: true });
    l3.release();
    expect(sut.metrics().recycles.maxUses + sut.metrics().recycles.error).toBeGreaterThanOrEqual(2);
    await sut.drain(5000);
    expect(await ours()).toHaveLength(0);
    // A firewall container's removal is not awaited by the runtime: wait for it.
    await waitFor(async () => (await guards()).length === 0, 10_000, 'guards removed');
    const nets = await docker.listNetworks({ filters: { label: [`${OWNER_LABEL}=${owner}`] } });
    expect(nets).toHaveLength(0);
  });

  it('removes orphans left by a killed server at the next start, and only ours', async () => {
    const crashed = runtime({ instanceId: `crashed-${randomUUID()}` });
    await Promise.all([crashed.create(), crashed.create()]);
    const otherOwner = runtime({ owner: `${owner}-other` });
    const foreign = await otherOwner.create();
    const abandoned = (await ours()).filter((c) => c.Labels['context-vault.instance'] === crashed.instanceId);
    expect(abandoned).toHaveLength(2);

    const next = runtime();
    const sut = new SandboxPool(next, { minWarm: 1, max: 2, maxUses: 10, maxAgeMs: 60_000, queueMax: 4, acquireTimeoutMs: 30_000 });
    await sut.start();
    await waitFor(() => sut.metrics().idle === 1, 30_000, 'warm container');
    const left = await ours();
    expect(left).toHaveLength(1);
    expect(left.every((c) => c.Labels['context-vault.instance'] === next.instanceId)).toBe(true);
    expect((await guards()).every((c) => c.Labels['context-vault.instance'] === next.instanceId)).toBe(true);
    expect((await docker.getContainer(foreign.id).inspect()).State.Running).toBe(true);
    await sut.drain(5000);
    await otherOwner.destroy(foreign.id);
  });
});
