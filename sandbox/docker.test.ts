import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSandboxContainerSpec, buildSandboxEnv, dockerFromHost, gpuDeviceRequests, prepareModelsDir } from './docker.js';
import { GUARD_RULES_V6, buildFirewallSpec, buildGuardSpec, guardRulesV4 } from './guard.js';
import { buildPullContainerSpec, isValidModelName } from './models.js';

const opts = {
  image: 'ollama/ollama:0.32.15',
  modelsDir: '/srv/models',
  memoryMb: 8192,
  network: 'cv-net',
  owner: 'default',
  model: 'llama3.1:8b',
  numCtx: 8192,
};
const ids = { name: 'cv-sandbox-x', instanceId: 'inst-1', networkMode: 'container:guard-1' };
const envOf = (spec: { Env?: string[] }) => Object.fromEntries(spec.Env!.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

describe('sandbox container spec', () => {
  const spec = buildSandboxContainerSpec(opts, ids);
  const hc = spec.HostConfig!;

  it('locks the container down as DESIGN.md says', () => {
    expect(spec.Image).toBe('ollama/ollama:0.32.15');
    expect(spec.User).toBe('65534:65534');
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(Object.keys(hc.Tmpfs!)).toEqual(['/tmp']);
    expect(hc.Tmpfs!['/tmp']!.split(',')).toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev', 'size=512m', 'mode=1777']));
    expect(spec.Env).toEqual(expect.arrayContaining(['HOME=/tmp', 'OLLAMA_NOHISTORY=1', 'OLLAMA_MODELS=/models', 'OLLAMA_HOST=0.0.0.0:11434']));
    expect(spec.Env!.some((e) => e.startsWith('OLLAMA_DEBUG'))).toBe(false);
    expect(hc.LogConfig).toEqual({ Type: 'none', Config: {} });
    expect(hc.Mounts).toEqual([{ Type: 'bind', Source: '/srv/models', Target: '/models', ReadOnly: true }]);
    expect(hc.NetworkMode).toBe('container:guard-1');
    expect(spec.ExposedPorts).toBeUndefined();
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toEqual(['no-new-privileges']);
    expect(hc.PidsLimit).toBeGreaterThan(0);
    expect(hc.Memory).toBe(8192 * 1024 * 1024);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.DeviceRequests).toBeUndefined();
    expect(hc.Binds).toBeUndefined();
    expect(hc.PortBindings).toBeUndefined();
    expect(spec.Labels).toEqual({
      'context-vault.sandbox': '1',
      'context-vault.owner': 'default',
      'context-vault.instance': 'inst-1',
      'context-vault.network': 'cv-net',
      'context-vault.model': 'llama3.1:8b',
    });
  });

  it("sets what Ollama's defaults get wrong: cloud, context, the runner's RAM cache, GPUs", () => {
    const env = envOf(spec);
    expect(env.OLLAMA_NO_CLOUD).toBe('1');
    expect(env.OLLAMA_CONTEXT_LENGTH).toBe('8192');
    expect(env.LLAMA_ARG_CACHE_RAM).toBe('0');
    expect(env.OLLAMA_KEEP_ALIVE).toBe('-1');
    expect(env.NVIDIA_VISIBLE_DEVICES).toBe('void');
    expect(envOf(buildSandboxContainerSpec({ ...opts, gpus: 'all' }, ids)).NVIDIA_VISIBLE_DEVICES).toBe('all');
    expect(envOf(buildSandboxContainerSpec({ ...opts, gpus: '0, 2' }, ids)).NVIDIA_VISIBLE_DEVICES).toBe('0,2');
    expect(envOf(buildSandboxContainerSpec({ ...opts, gpus: ' ' }, ids)).NVIDIA_VISIBLE_DEVICES).toBe('void');
  });

  it('refuses prompt logging and runner overrides even from extra env, and extra env cannot undo ours', () => {
    for (const key of ['OLLAMA_DEBUG', 'ollama_debug', 'OLLAMA_DEBUG_LOG_REQUESTS', 'LLAMA_ARG_CACHE_RAM', 'llama_arg_verbose', 'LLAMA_LOG_FILE']) {
      expect(() => buildSandboxEnv({ extraEnv: { [key]: '1' } }), key).toThrow(/refusing sandbox environment/);
    }
    const env = buildSandboxEnv({ extraEnv: { OLLAMA_NO_CLOUD: '0', NVIDIA_VISIBLE_DEVICES: 'all', FAKE_X: 'y' } });
    expect(env).toMatchObject({ OLLAMA_NO_CLOUD: '1', NVIDIA_VISIBLE_DEVICES: 'void', FAKE_X: 'y' });
  });

  it('prepares blobs/ and manifests/ so ollama serve starts on an empty read-only mount', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cv-models-')), 'models');
    prepareModelsDir(dir);
    prepareModelsDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['blobs', 'manifests']);
  });

  it('maps SANDBOX_GPUS to DeviceRequests', () => {
    expect(gpuDeviceRequests(undefined)).toBeUndefined();
    expect(gpuDeviceRequests('all')).toEqual([{ Driver: '', Count: -1, Capabilities: [['gpu']] }]);
    expect(gpuDeviceRequests('0, 2')).toEqual([{ Driver: '', DeviceIDs: ['0', '2'], Capabilities: [['gpu']] }]);
    const gpu = buildSandboxContainerSpec({ ...opts, gpus: 'all' }, ids);
    expect(gpu.HostConfig!.DeviceRequests![0]!.Count).toBe(-1);
  });

  it('parses DOCKER_HOST forms', () => {
    type Modem = { socketPath?: string; host?: string; port?: number | string; protocol?: string };
    const modem = (h: string | undefined) => dockerFromHost(h).modem as unknown as Modem;
    expect(modem('unix:///run/podman/podman.sock').socketPath).toBe('/run/podman/podman.sock');
    const tcp = modem('tcp://10.0.0.5:2375');
    expect([tcp.host, String(tcp.port), tcp.protocol]).toEqual(['10.0.0.5', '2375', 'http']);
    expect(modem(undefined).socketPath).toBe('/var/run/docker.sock');
  });
});

describe('sandbox network guard', () => {
  const g = { image: 'context-vault:latest', network: 'cv-net-1', port: 11434, labels: { 'context-vault.owner': 'default' } };

  it('lets the app in on the model port only and nothing out but replies', () => {
    const v4 = guardRulesV4(11434).split('\n');
    expect(v4).toEqual(expect.arrayContaining([':INPUT DROP [0:0]', ':OUTPUT DROP [0:0]', ':FORWARD DROP [0:0]']));
    const accepts = v4.filter((l) => l.includes('-j ACCEPT'));
    expect(accepts).toEqual([
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -p tcp --dport 11434 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT',
      '-A OUTPUT -o lo -j ACCEPT',
      '-A OUTPUT -p tcp --sport 11434 -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    ]);
    expect(GUARD_RULES_V6).toContain(':OUTPUT DROP');
    expect(GUARD_RULES_V6.split('\n').filter((l) => l.includes('ACCEPT'))).toEqual(['-A INPUT -i lo -j ACCEPT', '-A OUTPUT -o lo -j ACCEPT']);
  });

  it('holds the namespace without capabilities; only the one-shot firewall gets NET_ADMIN', () => {
    const guard = buildGuardSpec(g, 'x-guard');
    expect(guard.HostConfig!.NetworkMode).toBe('cv-net-1');
    expect(guard.HostConfig!.CapDrop).toEqual(['ALL']);
    expect(guard.HostConfig!.CapAdd).toBeUndefined();
    expect(guard.User).toBe('65534:65534');
    const fw = buildFirewallSpec(g, 'x-fw', 'guard-id');
    expect(fw.HostConfig!.NetworkMode).toBe('container:guard-id');
    expect(fw.HostConfig!.CapAdd).toEqual(['NET_ADMIN']);
    expect(fw.HostConfig!.SecurityOpt).toEqual(['no-new-privileges']);
    expect(fw.Env).toContain(`GUARD_RULES_V4=${guardRulesV4(11434)}`);
    expect(fw.Cmd![0]).not.toContain('11434');
  });
});

describe('models pull container spec', () => {
  it('is one networked, writable-models, otherwise locked-down container running ollama pull', () => {
    const spec = buildPullContainerSpec({ image: 'ollama/ollama:latest', modelsDir: '/srv/models', owner: 'default', model: 'llama3.1:8b' });
    const hc = spec.HostConfig!;
    expect(hc.Mounts).toEqual([{ Type: 'bind', Source: '/srv/models', Target: '/models', ReadOnly: false }]);
    expect(hc.NetworkMode).toBe('bridge');
    expect(spec.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(spec.Cmd![0]).toContain('ollama pull "$1"');
    expect(spec.Cmd!.slice(1)).toEqual(['pull', 'llama3.1:8b']);
    expect(spec.Env).toEqual(expect.arrayContaining(['OLLAMA_MODELS=/models', 'OLLAMA_NOHISTORY=1', 'OLLAMA_NO_CLOUD=1']));
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(spec.Labels!['context-vault.sandbox']).toBeUndefined();
    expect(spec.Labels!['context-vault.models-pull']).toBe('1');
    expect(spec.Labels!['context-vault.model']).toBe('llama3.1:8b');
    // One pull at a time: the engine refuses a second container of the same name.
    expect(spec.name).toBe('cv-models-pull-default');
  });

  it('refuses cloud models', () => {
    for (const model of ['gpt-oss:120b-cloud', 'kimi-k2.6:cloud']) {
      expect(() => buildPullContainerSpec({ image: 'i', modelsDir: '/m', owner: 'o', model })).toThrow(/cloud model/);
    }
  });

  it('rejects names that are not model references', () => {
    for (const bad of ['', '-rm', 'a b', 'x;rm -rf /', '../etc', 'a:b:c', '$(id)']) expect(isValidModelName(bad)).toBe(false);
    for (const good of ['llama3.1:8b', 'qwen2.5:7b-instruct-q4_K_M', 'hf.co/org/model:Q4_K_M', 'mistral']) expect(isValidModelName(good)).toBe(true);
    expect(() => buildPullContainerSpec({ image: 'i', modelsDir: '/m', owner: 'o', model: '$(id)' })).toThrow();
  });
});
