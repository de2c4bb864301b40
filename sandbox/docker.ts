import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SandboxInstance, SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import { SandboxStartError } from './errors.js';
import { waitForOllama } from './ollama.js';

/** Label on every inference container; orphan removal and shutdown find them by it. */
export const SANDBOX_LABEL = 'context-vault.sandbox';
/** Label naming the server deployment (`SANDBOX_OWNER`) a container belongs to. */
export const OWNER_LABEL = 'context-vault.owner';
/** Label naming the server process that created a container; anything else of ours is an orphan. */
export const INSTANCE_LABEL = 'context-vault.instance';
/** Label on the internal networks we create. */
export const NETWORK_LABEL = 'context-vault.sandbox-network';
/** Label on a container naming its own network, removed with it. */
export const NETWORK_NAME_LABEL = 'context-vault.network';
/** Port Ollama listens on inside the container. */
export const OLLAMA_PORT = 11434;

/** Everything that shapes an inference container. */
export interface DockerSandboxOptions {
  image: string;
  /** Host directory of model weights, bind-mounted read-only at /models. */
  modelsDir: string;
  memoryMb: number;
  /** `all` or comma-separated GPU ids; unset = no GPU. */
  gpus?: string | undefined;
  /** The internal network the container joins (the runtime creates one per container). */
  network: string;
  /** `SANDBOX_OWNER`: scopes orphan removal to this deployment. */
  owner: string;
  /** Process limit; threads count too, and llama.cpp starts one per core (default 1024). */
  pidsLimit?: number;
  /** Size of the /tmp tmpfs in MiB (default 512). */
  tmpSizeMb?: number;
  /** Size of the HOME (/root) tmpfs in MiB, where Ollama writes its key (default 64). */
  homeSizeMb?: number;
  /** Extra environment, for test images only; OLLAMA_DEBUG is refused (it logs whole prompts). */
  extraEnv?: Record<string, string>;
}

/** Options of {@link DockerRuntime}: the container shape plus how to reach the engine. */
export interface DockerRuntimeOptions extends DockerSandboxOptions {
  docker?: Docker;
  /** `DOCKER_HOST` form; ignored when `docker` is given. */
  dockerHost?: string | undefined;
  /** How long a new container may take to answer `GET /api/version` (default 120 s). */
  readyTimeoutMs?: number;
  /**
   * The API server's own container (name or id) when it runs inside the engine (docker compose):
   * it is connected to each sandbox network so it can reach the sandbox, and disconnected after.
   */
  attachContainer?: string | undefined;
  /** Overrides the per-process instance id (tests simulating a previous server). */
  instanceId?: string;
  log?: SandboxLogger;
}

/**
 * A dockerode client for a `DOCKER_HOST` value: `unix:///path`, `tcp://host:port`,
 * `http(s)://host:port`; unset = `/var/run/docker.sock`. TLS client certificates are not wired.
 */
export function dockerFromHost(dockerHost?: string): Docker {
  if (!dockerHost) return new Docker({ socketPath: '/var/run/docker.sock' });
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  if (dockerHost.startsWith('/')) return new Docker({ socketPath: dockerHost });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 2376 : 2375),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

/** `SANDBOX_GPUS` -> Docker `DeviceRequests` (`all` = every GPU, else the listed ids). */
export function gpuDeviceRequests(gpus: string | undefined): Docker.DeviceRequest[] | undefined {
  const value = gpus?.trim();
  if (!value) return undefined;
  const base = { Driver: '', Capabilities: [['gpu']] };
  if (value === 'all') return [{ ...base, Count: -1 }];
  return [{ ...base, DeviceIDs: value.split(',').map((s) => s.trim()).filter(Boolean) }];
}

/**
 * The create-container body of one inference container. Every line is a privacy or containment
 * control, so it is built in one pure function that tests assert on field by field:
 * - read-only root; writable space is tmpfs only (/tmp and HOME=/root, which holds the
 *   `.ollama` key and CLI history), size-capped, and gone when the container is removed;
 * - `OLLAMA_NOHISTORY`, never `OLLAMA_DEBUG` (debug logs whole prompts), log driver `none`;
 * - weights read-only at /models (`OLLAMA_NOPRUNE`, since Ollama otherwise tries to prune blobs
 *   there at start);
 * - an internal network only (no egress), all capabilities dropped, no-new-privileges, pids and
 *   memory limits (memory = memory+swap, so no swap), GPUs only when configured.
 */
export function buildSandboxContainerSpec(
  opts: DockerSandboxOptions,
  ids: { name: string; instanceId: string },
): Docker.ContainerCreateOptions {
  const extra = opts.extraEnv ?? {};
  if (Object.keys(extra).some((k) => k.toUpperCase() === 'OLLAMA_DEBUG')) {
    throw new Error('OLLAMA_DEBUG must never be set on a sandbox: it logs whole prompts');
  }
  const env: Record<string, string> = {
    ...extra,
    HOME: '/root',
    OLLAMA_HOST: `0.0.0.0:${OLLAMA_PORT}`,
    OLLAMA_MODELS: '/models',
    OLLAMA_NOHISTORY: '1',
    OLLAMA_NOPRUNE: '1',
    // The model stays loaded for the container's whole (short) life rather than 5 minutes.
    OLLAMA_KEEP_ALIVE: '-1',
  };
  const memory = opts.memoryMb * 1024 * 1024;
  const deviceRequests = gpuDeviceRequests(opts.gpus);
  return {
    name: ids.name,
    Image: opts.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { [SANDBOX_LABEL]: '1', [OWNER_LABEL]: opts.owner, [INSTANCE_LABEL]: ids.instanceId, [NETWORK_NAME_LABEL]: opts.network },
    ExposedPorts: { [`${OLLAMA_PORT}/tcp`]: {} },
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,size=${opts.tmpSizeMb ?? 512}m`,
        '/root': `rw,nosuid,nodev,noexec,size=${opts.homeSizeMb ?? 64}m,mode=700`,
      },
      Mounts: [{ Type: 'bind', Source: resolve(opts.modelsDir), Target: '/models', ReadOnly: true }],
      NetworkMode: opts.network,
      LogConfig: { Type: 'none', Config: {} },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: opts.pidsLimit ?? 1024,
      Memory: memory,
      MemorySwap: memory,
      IpcMode: 'private',
      RestartPolicy: { Name: 'no' },
      ...(deviceRequests ? { DeviceRequests: deviceRequests } : {}),
    },
  };
}

function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === code;
}

/**
 * The real runtime: one Ollama container per sandbox, each alone on its own internal network
 * (`<SANDBOX_NETWORK>-<id>`), driven through the Docker Engine API (Docker, or rootful podman's
 * compatible service). The server reaches a container at its IP on that network, so it must run
 * on the engine's host or name its own container in `attachContainer` (docker compose). Caveat: an internal network blocks egress, but the host still owns
 * the bridge's gateway address, so host services listening on 0.0.0.0 are reachable from the
 * sandbox unless a host firewall drops new connections from the bridge (see SECURITY.md).
 */
export class DockerRuntime implements SandboxRuntime {
  readonly kind = 'docker' as const;
  readonly ephemeral = true;
  readonly docker: Docker;
  readonly instanceId: string;
  private readonly log: SandboxLogger;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? dockerFromHost(opts.dockerHost);
    this.instanceId = opts.instanceId ?? randomUUID();
    this.log = opts.log ?? silentLogger;
  }

  /** The create body this runtime uses (for inspection and tests). */
  containerSpec(name: string, network: string): Docker.ContainerCreateOptions {
    return buildSandboxContainerSpec({ ...this.opts, network }, { name, instanceId: this.instanceId });
  }

  /**
   * Creates the sandbox's own internal network. One network per container, because podman
   * ignores `enable_icc=false` and on a shared network one user's sandbox could reach another's
   * Ollama port; alone on its network it reaches nothing but the host's bridge address.
   */
  private async createNetwork(name: string): Promise<void> {
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: { [NETWORK_LABEL]: '1', [OWNER_LABEL]: this.opts.owner, [INSTANCE_LABEL]: this.instanceId },
    });
    const info = (await this.docker.getNetwork(name).inspect()) as { Internal?: boolean };
    if (!info.Internal) throw new SandboxStartError(`network ${name} is not internal; refusing to use it`);
  }

  private async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async create(): Promise<SandboxInstance> {
    try {
      // Only meaningful when the engine is local; a missing source makes the bind mount fail.
      mkdirSync(resolve(this.opts.modelsDir), { recursive: true });
    } catch {
      // A remote engine: the directory has to exist over there.
    }
    const suffix = randomUUID().slice(0, 12);
    const name = `cv-sandbox-${this.opts.owner}-${suffix}`;
    const network = `${this.opts.network}-${suffix}`;
    try {
      await this.createNetwork(network);
    } catch (err) {
      await this.removeNetwork(network).catch(() => undefined);
      throw err instanceof SandboxStartError ? err : new SandboxStartError(`could not create network ${network}: ${(err as Error).message}`, { cause: err });
    }
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(this.containerSpec(name, network));
    } catch (err) {
      await this.removeNetwork(network).catch(() => undefined);
      throw new SandboxStartError(`could not create sandbox container from ${this.opts.image}: ${(err as Error).message}`, { cause: err });
    }
    try {
      if (this.opts.attachContainer) await this.docker.getNetwork(network).connect({ Container: this.opts.attachContainer });
      await container.start();
      const info = await container.inspect();
      const ip = info.NetworkSettings.Networks[network]?.IPAddress;
      if (!ip) throw new SandboxStartError(`sandbox ${name} has no address on network ${network}`);
      const baseUrl = `http://${ip}:${OLLAMA_PORT}`;
      const alive = async () => {
        try {
          return (await container.inspect()).State.Running;
        } catch {
          return false;
        }
      };
      if (!(await waitForOllama(baseUrl, this.opts.readyTimeoutMs ?? 120_000, 100, alive))) {
        throw new SandboxStartError(`sandbox ${name} did not answer on ${baseUrl} in time`);
      }
      this.log.debug?.({ id: container.id, name }, 'sandbox ready');
      return { id: container.id, baseUrl };
    } catch (err) {
      await this.destroy(container.id).catch(() => undefined);
      throw err instanceof SandboxStartError ? err : new SandboxStartError(`sandbox ${name} failed to start: ${(err as Error).message}`, { cause: err });
    }
  }

  async destroy(id: string): Promise<void> {
    let network: string | undefined;
    try {
      const info = await this.docker.getContainer(id).inspect();
      network = info.Config.Labels?.[NETWORK_NAME_LABEL];
      // Force + volumes: the container and its tmpfs go in one step, with no graceful shutdown.
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
    if (network) {
      if (this.opts.attachContainer) {
        await this.docker.getNetwork(network).disconnect({ Container: this.opts.attachContainer, Force: true }).catch(() => undefined);
      }
      await this.removeNetwork(network);
    }
  }

  /** Sandboxes of this owner whose instance label is not ours (a previous, crashed server's). */
  async removeOrphans(): Promise<number> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_LABEL}=${this.opts.owner}`] },
    });
    const orphans = list.filter((c) => c.Labels[INSTANCE_LABEL] !== this.instanceId);
    await Promise.all(orphans.map((c) => this.destroy(c.Id)));
    // Networks whose container never started (a crash between the two creates).
    const nets = await this.docker.listNetworks({ filters: { label: [`${NETWORK_LABEL}=1`, `${OWNER_LABEL}=${this.opts.owner}`] } });
    await Promise.all(nets.filter((n) => n.Labels?.[INSTANCE_LABEL] !== this.instanceId).map((n) => this.removeNetwork(n.Name)));
    return orphans.length;
  }

  /** Removes every sandbox this process created (a last resort after the pool's drain). */
  async removeAll(): Promise<number> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${SANDBOX_LABEL}=1`, `${INSTANCE_LABEL}=${this.instanceId}`] },
    });
    await Promise.all(list.map((c) => this.destroy(c.Id)));
    const nets = await this.docker.listNetworks({ filters: { label: [`${NETWORK_LABEL}=1`, `${INSTANCE_LABEL}=${this.instanceId}`] } });
    await Promise.all(nets.map((n) => this.removeNetwork(n.Name)));
    return list.length;
  }

  async ping(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
      return await Promise.race([this.docker.ping().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the configured image exists on the engine (no registry pull is ever attempted). */
  async hasImage(): Promise<boolean> {
    try {
      await this.docker.getImage(this.opts.image).inspect();
      return true;
    } catch {
      return false;
    }
  }
}
