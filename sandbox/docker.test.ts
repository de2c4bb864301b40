import { describe, expect, it } from 'vitest';
import { buildSandboxContainerSpec, dockerFromHost, gpuDeviceRequests } from './docker.js';
import { buildPullContainerSpec, isValidModelName } from './models.js';

const opts = { image: 'ollama/ollama:latest', modelsDir: '/srv/models', memoryMb: 8192, network: 'cv-net', owner: 'default' };

describe('sandbox container spec', () => {
  const spec = buildSandboxContainerSpec(opts, { name: 'cv-sandbox-x', instanceId: 'inst-1' });
  const hc = spec.HostConfig!;

  it('locks the container down as DESIGN.md says', () => {
    expect(spec.Image).toBe('ollama/ollama:latest');
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(Object.keys(hc.Tmpfs!)).toEqual(['/tmp', '/root']);
    expect(hc.Tmpfs!['/tmp']).toMatch(/size=\d+m/);
    expect(hc.Tmpfs!['/root']).toMatch(/size=\d+m/);
    expect(spec.Env).toEqual(expect.arrayContaining(['HOME=/root', 'OLLAMA_NOHISTORY=1', 'OLLAMA_MODELS=/models', 'OLLAMA_HOST=0.0.0.0:11434']));
    expect(spec.Env!.some((e) => e.startsWith('OLLAMA_DEBUG'))).toBe(false);
    expect(hc.LogConfig).toEqual({ Type: 'none', Config: {} });
    expect(hc.Mounts).toEqual([{ Type: 'bind', Source: '/srv/models', Target: '/models', ReadOnly: true }]);
    expect(hc.NetworkMode).toBe('cv-net');
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toEqual(['no-new-privileges']);
    expect(hc.PidsLimit).toBeGreaterThan(0);
    expect(hc.Memory).toBe(8192 * 1024 * 1024);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.DeviceRequests).toBeUndefined();
    expect(hc.Binds).toBeUndefined();
    expect(hc.PortBindings).toBeUndefined();
    expect(spec.Labels).toEqual({ 'context-vault.sandbox': '1', 'context-vault.owner': 'default', 'context-vault.instance': 'inst-1', 'context-vault.network': 'cv-net' });
  });

  it('refuses OLLAMA_DEBUG even from extra env', () => {
    expect(() => buildSandboxContainerSpec({ ...opts, extraEnv: { ollama_debug: '1' } }, { name: 'x', instanceId: 'i' })).toThrow(/OLLAMA_DEBUG/);
  });

  it('maps SANDBOX_GPUS to DeviceRequests', () => {
    expect(gpuDeviceRequests(undefined)).toBeUndefined();
    expect(gpuDeviceRequests('all')).toEqual([{ Driver: '', Count: -1, Capabilities: [['gpu']] }]);
    expect(gpuDeviceRequests('0, 2')).toEqual([{ Driver: '', DeviceIDs: ['0', '2'], Capabilities: [['gpu']] }]);
    const gpu = buildSandboxContainerSpec({ ...opts, gpus: 'all' }, { name: 'x', instanceId: 'i' });
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

describe('models pull container spec', () => {
  it('is one networked, writable-models, otherwise locked-down container running ollama pull', () => {
    const spec = buildPullContainerSpec({ image: 'ollama/ollama:latest', modelsDir: '/srv/models', owner: 'default', model: 'llama3.1:8b' });
    const hc = spec.HostConfig!;
    expect(hc.Mounts).toEqual([{ Type: 'bind', Source: '/srv/models', Target: '/models', ReadOnly: false }]);
    expect(hc.NetworkMode).toBe('bridge');
    expect(spec.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(spec.Cmd![0]).toContain('ollama pull "$1"');
    expect(spec.Cmd!.slice(1)).toEqual(['pull', 'llama3.1:8b']);
    expect(spec.Env).toEqual(expect.arrayContaining(['OLLAMA_MODELS=/models', 'OLLAMA_NOHISTORY=1']));
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(spec.Labels!['context-vault.sandbox']).toBeUndefined();
    expect(spec.Labels!['context-vault.models-pull']).toBe('1');
  });

  it('rejects names that are not model references', () => {
    for (const bad of ['', '-rm', 'a b', 'x;rm -rf /', '../etc', 'a:b:c', '$(id)']) expect(isValidModelName(bad)).toBe(false);
    for (const good of ['llama3.1:8b', 'qwen2.5:7b-instruct-q4_K_M', 'hf.co/org/model:Q4_K_M', 'mistral']) expect(isValidModelName(good)).toBe(true);
    expect(() => buildPullContainerSpec({ image: 'i', modelsDir: '/m', owner: 'o', model: '$(id)' })).toThrow();
  });
});
