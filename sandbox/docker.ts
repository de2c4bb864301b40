import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SandboxInstance, SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import { ImageMissingError, SandboxStartError } from './errors.js';
import { GUARD_ID_LABEL, GUARD_LABEL, buildFirewallSpec, buildGuardSpec, type GuardOptions } from './guard.js';
import { waitForOllama } from './ollama.js';

/** Label on every inference container; orphan removal and shutdown find them by it. */
export const SANDBOX_LABEL = 'context-vault.sandbox';
/** Label naming the server deployment (`SANDBOX_OWNER`) a container belongs to. */
export const OWNER_LABEL = 'context-vault.owner';
/** Label naming the server process that created a container; anything else of ours is an orphan. */
export const INSTANCE_LABEL = 'context-vault.instance';
/** Label naming the engine of `SANDBOX_DOCKER_HOSTS` a sandbox runs on (engines may share storage). */
export const HOST_LABEL = 'context-vault.host';
/** Label on the internal networks we create. */
export const NETWORK_LABEL = 'context-vault.sandbox-network';
/** Label on a container naming its own network, removed with it. */
export const NETWORK_NAME_LABEL = 'context-vault.network';
/** Label on the one-off model-pull container (not a sandbox: orphan removal leaves it alone). */
export const PULL_LABEL = 'context-vault.models-pull';
/** Label naming the chat model a sandbox serves (a pull of that model waits for none to run). */
export const MODEL_LABEL = 'context-vault.model';
/** Port Ollama listens on inside the container. */
export const OLLAMA_PORT = 11434;
/** nobody:nogroup: the model process needs no identity of its own. */
export const SANDBOX_USER = '65534:65534';

/** Everything that shapes an inference container. */
export interface DockerSandboxOptions {
  image: string;
  /** Host directory of model weights, bind-mounted read-only at /models. */
  modelsDir: string;
  memoryMb: number;
  /** `all` or comma-separated GPU ids; unset = no GPU. */
  gpus?: string | undefined;
  /** The internal network the guard joins (the runtime creates one per sandbox). */
  network: string;
  /** `SANDBOX_OWNER`: scopes orphan removal to this deployment. */
  owner: string;
  /** The chat model: labelled on the container so a pull can tell which sandboxes serve it. */
  model?: string;
  /** `OLLAMA_NUM_CTX`: also Ollama's default context, so no request loads the model with another. */
  numCtx?: number;
  /** Process limit; threads count too, and llama.cpp starts one per core (default 1024). */
  pidsLimit?: number;
  /** Size of the /tmp tmpfs in MiB, which is also HOME (default 512). */
  tmpSizeMb?: number;
  /** `uid:gid` the model process runs as (default nobody, 65534:65534). */
  user?: string;
  /** Extra environment, for test images only; see {@link refusedEnvKey} for what is refused. */
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
  /** `SANDBOX_GUARD_IMAGE`: image of the guard and firewall containers (needs iptables). */
  guardImage: string;
  /** Overrides the per-process instance id (tests simulating a previous server; shared by the engines of one fleet). */
  instanceId?: string;
  /** The engine's name in `SANDBOX_DOCKER_HOSTS`: labelled on everything made, and part of container names. */
  hostName?: string | undefined;
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
  return [
    {
      ...base,
      DeviceIDs: value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
  ];
}

/**
 * Environment a sandbox must never get, even from `extraEnv`:
 * - `OLLAMA_DEBUG_LOG_REQUESTS` writes every inference request body (the prompt: sources and
 *   question) to a temp directory (ollama v0.32.15 server/inference_request_log.go);
 *   `OLLAMA_DEBUG` raises the log level (prompts at trace level), so it is refused too;
 * - `LLAMA_*`: llama-server reads its settings from `LLAMA_ARG_*` and inherits Ollama's whole
 *   environment (llm/llama_server.go, SetupLlamaServerCommandEnv: `cmd.Env = os.Environ()`),
 *   so any of them could undo a limit set here (`LLAMA_ARG_CACHE_RAM`) or turn on its logging.
 */
export function refusedEnvKey(key: string): boolean {
  const k = key.toUpperCase();
  return k.startsWith('OLLAMA_DEBUG') || k.startsWith('LLAMA_');
}

/** `NVIDIA_VISIBLE_DEVICES` for `SANDBOX_GPUS`: the image sets `all`, so CPU-only must say `void`. */
export function nvidiaVisibleDevices(gpus: string | undefined): string {
  const value = gpus?.trim();
  if (!value) return 'void';
  if (value === 'all') return 'all';
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(',');
}

/**
 * The environment of one inference container. Each line answers something Ollama's source does
 * by default (ollama v0.32.15, envconfig/config.go unless said otherwise):
 * - `HOME=/tmp`: Ollama writes its key to `$HOME/.ollama`; /tmp is the only writable place;
 * - `OLLAMA_NOPRUNE`: the weights are read-only; `OLLAMA_KEEP_ALIVE=-1`: loaded for the
 *   container's whole (short) life;
 * - `OLLAMA_NO_CLOUD=1`: no ollama.com calls and no `:cloud` models that proxy prompts out;
 * - `OLLAMA_CONTEXT_LENGTH`: the same context as every request, so nothing loads the model with
 *   the automatic VRAM-sized context (server/sched.go) and reloads it at the first chat;
 * - `LLAMA_ARG_CACHE_RAM=0`: llama-server keeps prompt states in RAM (llama.cpp's `--cache-ram`,
 *   8192 MiB by default, 0 = off; Ollama sets no limit), which outgrows the container's memory
 *   limit and gets the runner killed;
 * - `NVIDIA_VISIBLE_DEVICES`: the image says `all`; on hosts whose default runtime is nvidia a
 *   CPU-only sandbox would see every GPU, so it is `void` there and the chosen ids otherwise.
 */
export function buildSandboxEnv(opts: Pick<DockerSandboxOptions, 'extraEnv' | 'numCtx' | 'gpus'>): Record<string, string> {
  const extra = opts.extraEnv ?? {};
  const refused = Object.keys(extra).filter(refusedEnvKey);
  if (refused.length) {
    throw new Error(`refusing sandbox environment ${refused.join(', ')}: it would log prompts or override the runner's limits`);
  }
  return {
    ...extra,
    HOME: '/tmp',
    OLLAMA_HOST: `0.0.0.0:${OLLAMA_PORT}`,
    OLLAMA_MODELS: '/models',
    OLLAMA_NOHISTORY: '1',
    OLLAMA_NOPRUNE: '1',
    OLLAMA_KEEP_ALIVE: '-1',
    OLLAMA_NO_CLOUD: '1',
    ...(opts.numCtx ? { OLLAMA_CONTEXT_LENGTH: String(opts.numCtx) } : {}),
    LLAMA_ARG_CACHE_RAM: '0',
    NVIDIA_VISIBLE_DEVICES: nvidiaVisibleDevices(opts.gpus),
  };
}

/**
 * The create-container body of one inference container. Every line is a privacy or containment
 * control, so it is built in one pure function that tests assert on field by field:
 * - read-only root; the one writable place is a size-capped `noexec,nosuid` tmpfs at /tmp (also
 *   HOME, where Ollama keeps its key), gone when the container is removed;
 * - runs as nobody (65534): the official image has no user of its own but needs none;
 * - the environment of {@link buildSandboxEnv}, log driver `none`;
 * - weights read-only at /models;
 * - the network namespace of its guard (`container:<guard>`, see guard.ts): the guard's
 *   firewall lets the app in on 11434 and nothing out; all capabilities dropped,
 *   no-new-privileges, pids and memory limits (memory = memory+swap, so no swap), GPUs only when
 *   configured.
 */
export function buildSandboxContainerSpec(
  opts: DockerSandboxOptions,
  ids: { name: string; instanceId: string; networkMode: string },
): Docker.ContainerCreateOptions {
  const env = buildSandboxEnv(opts);
  const memory = opts.memoryMb * 1024 * 1024;
  const deviceRequests = gpuDeviceRequests(opts.gpus);
  return {
    name: ids.name,
    Image: opts.image,
    User: opts.user ?? SANDBOX_USER,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [SANDBOX_LABEL]: '1',
      [OWNER_LABEL]: opts.owner,
      [INSTANCE_LABEL]: ids.instanceId,
      [NETWORK_NAME_LABEL]: opts.network,
      ...(opts.model ? { [MODEL_LABEL]: opts.model } : {}),
    },
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${opts.tmpSizeMb ?? 512}m,mode=1777` },
      Mounts: [{ Type: 'bind', Source: resolve(opts.modelsDir), Target: '/models', ReadOnly: true }],
      NetworkMode: ids.networkMode,
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

/**
 * Creates `blobs/` and `manifests/` in the models directory. `ollama serve` creates
 * `$OLLAMA_MODELS/blobs` at start (server/routes.go Serve -> manifest.BlobsPath("")); on an
 * empty read-only mount that fails with EROFS and the server exits before it listens.
 */
export function prepareModelsDir(modelsDir: string): void {
  for (const d of ['blobs', 'manifests']) mkdirSync(join(resolve(modelsDir), d), { recursive: true });
}

function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === code;
}

/**
 * The real runtime, driven through the Docker Engine API (Docker, or rootful podman's compatible
 * service). A sandbox is three containers on its own internal network (`<SANDBOX_NETWORK>-<id>`):
 * a guard that owns the network namespace, a one-shot firewall that loads the guard's rules
 * (see guard.ts) and exits, and Ollama, which joins the guard's namespace. The server reaches
 * Ollama at the guard's address, so it must run on the engine's host or name its own container
 * in `attachContainer` (docker compose); the sandbox can open no connection to either.
 */
export class DockerRuntime implements SandboxRuntime {
  readonly kind = 'docker' as const;
  readonly ephemeral = true;
  readonly docker: Docker;
  readonly instanceId: string;
  private readonly log: SandboxLogger;
  /** Removals of exited firewall containers still in progress, by sandbox network. */
  private readonly firewallRemovals = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? dockerFromHost(opts.dockerHost);
    this.instanceId = opts.instanceId ?? randomUUID();
    this.log = opts.log ?? silentLogger;
  }

  /** The create body of the Ollama container of a sandbox whose guard is `guardId`. */
  containerSpec(name: string, network: string, guardId: string): Docker.ContainerCreateOptions {
    const spec = buildSandboxContainerSpec({ ...this.opts, network }, { name, instanceId: this.instanceId, networkMode: `container:${guardId}` });
    spec.Labels = { ...spec.Labels, [GUARD_ID_LABEL]: guardId, ...this.hostLabels() };
    return spec;
  }

  private hostLabels(): Record<string, string> {
    return this.opts.hostName ? { [HOST_LABEL]: this.opts.hostName } : {};
  }

  /** Label filters for what this process made on this engine. */
  private mine(...labels: string[]): { label: string[] } {
    return { label: [...labels, `${INSTANCE_LABEL}=${this.instanceId}`, ...(this.opts.hostName ? [`${HOST_LABEL}=${this.opts.hostName}`] : [])] };
  }

  private guardOptions(network: string): GuardOptions {
    return {
      image: this.opts.guardImage,
      network,
      port: OLLAMA_PORT,
      labels: { [OWNER_LABEL]: this.opts.owner, [INSTANCE_LABEL]: this.instanceId, [NETWORK_NAME_LABEL]: network, ...this.hostLabels() },
    };
  }

  /**
   * Creates the sandbox's own internal network. One network per sandbox, because podman
   * ignores `enable_icc=false` and on a shared network one user's sandbox could reach another's
   * Ollama port (the guard's rules stop that too).
   */
  private async createNetwork(name: string): Promise<void> {
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: { [NETWORK_LABEL]: '1', [OWNER_LABEL]: this.opts.owner, [INSTANCE_LABEL]: this.instanceId, ...this.hostLabels() },
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

  /** A create that names the missing image instead of the engine's generic 404. */
  private async createFrom(spec: Docker.ContainerCreateOptions, what: 'sandbox' | 'guard'): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(spec);
    } catch (err) {
      if (isStatus(err, 404) && /image/i.test((err as Error).message)) throw new ImageMissingError(spec.Image!, what);
      throw new SandboxStartError(`could not create the ${what} container from ${spec.Image}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Creates and starts the guard; resolves to its container id. */
  private async startGuard(name: string, network: string): Promise<string> {
    const guard = await this.createFrom(buildGuardSpec(this.guardOptions(network), `${name}-guard`), 'guard');
    await guard.start();
    return guard.id;
  }

  /** Loads the guard's rules with the one-shot firewall container; throws when it fails. */
  private async loadFirewall(name: string, network: string, guardId: string): Promise<void> {
    const fw = await this.createFrom(buildFirewallSpec(this.guardOptions(network), `${name}-fw`, guardId), 'guard');
    try {
      await fw.start();
      const { StatusCode } = (await fw.wait()) as { StatusCode: number };
      if (StatusCode !== 0) {
        const log = await fw.logs({ stdout: true, stderr: true }).then(
          (b) =>
            String(b)
              .replace(/[^\x20-\x7e\n]/g, '')
              .trim()
              .slice(-300),
          () => '',
        );
        throw new SandboxStartError(`the sandbox firewall failed (exit ${StatusCode}; ${this.opts.guardImage} needs iptables): ${log}`);
      }
    } finally {
      // Not awaited here (it has exited; the sandbox need not wait), but removeGuards() waits for
      // it rather than racing it with a second removal.
      const removal = fw.remove({ force: true }).catch(() => undefined);
      this.firewallRemovals.set(network, removal);
      void removal.finally(() => {
        if (this.firewallRemovals.get(network) === removal) this.firewallRemovals.delete(network);
      });
    }
  }

  async create(): Promise<SandboxInstance> {
    try {
      // Only meaningful when the engine is local; a missing source makes the bind mount fail.
      prepareModelsDir(this.opts.modelsDir);
    } catch {
      // A remote engine: the directory has to be prepared over there.
    }
    // A pull replaces files under a sandbox's feet (see models.ts): none starts while one runs.
    const pulls = await this.docker.listContainers({ all: true, filters: { label: [PULL_LABEL, `${OWNER_LABEL}=${this.opts.owner}`] } });
    if (pulls.length > 0) {
      throw new SandboxStartError(`A model is being pulled (${pulls[0]!.Labels[MODEL_LABEL] ?? 'unknown'}); chat starts when the pull ends.`, {
        code: 'model_pulling',
      });
    }
    const suffix = randomUUID().slice(0, 12);
    const name = `cv-sandbox-${this.opts.owner}-${this.opts.hostName ? `${this.opts.hostName}-` : ''}${suffix}`;
    const network = `${this.opts.network}-${suffix}`;
    try {
      await this.createNetwork(network);
    } catch (err) {
      await this.removeNetwork(network).catch(() => undefined);
      throw err instanceof SandboxStartError ? err : new SandboxStartError(`could not create network ${network}: ${(err as Error).message}`, { cause: err });
    }
    let container: Docker.Container | undefined;
    try {
      const guardId = await this.startGuard(name, network);
      // Ollama's container is created while the rules load (one round of engine calls less) and
      // started only once they are in. allSettled: after a failure nothing is still being
      // created behind the clean-up.
      const steps = await Promise.allSettled([
        this.createFrom(this.containerSpec(name, network, guardId), 'sandbox').then((c) => (container = c)),
        this.loadFirewall(name, network, guardId),
        this.opts.attachContainer ? this.docker.getNetwork(network).connect({ Container: this.opts.attachContainer }) : undefined,
      ]);
      const failed = steps.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const sandbox = container!;
      await sandbox.start();
      const guardInfo = await this.docker.getContainer(guardId).inspect();
      const ip = guardInfo.NetworkSettings.Networks[network]?.IPAddress;
      if (!ip) throw new SandboxStartError(`sandbox ${name} has no address on network ${network}`);
      const baseUrl = `http://${ip}:${OLLAMA_PORT}`;
      let exitCode: number | undefined;
      const alive = async () => {
        try {
          const state = (await sandbox.inspect()).State;
          if (!state.Running) exitCode = state.ExitCode;
          return state.Running;
        } catch {
          return false;
        }
      };
      if (!(await waitForOllama(baseUrl, this.opts.readyTimeoutMs ?? 120_000, 100, alive))) {
        if (exitCode !== undefined) {
          // Its log is off by design (it would hold prompts), so say what usually causes this.
          throw new SandboxStartError(
            `sandbox ${name} exited with code ${exitCode} before answering (is ${this.opts.image} an Ollama image, and can it read ${this.opts.modelsDir}?)`,
          );
        }
        throw new SandboxStartError(`sandbox ${name} did not answer on ${baseUrl} in time`);
      }
      this.log.debug?.({ id: sandbox.id, name }, 'sandbox ready');
      return { id: sandbox.id, baseUrl };
    } catch (err) {
      if (container) await this.destroy(container.id).catch(() => undefined);
      // What destroy() does not reach when the sandbox's container was never made.
      await this.removeGuards(network).catch(() => undefined);
      if (this.opts.attachContainer) {
        await this.docker
          .getNetwork(network)
          .disconnect({ Container: this.opts.attachContainer, Force: true })
          .catch(() => undefined);
      }
      await this.removeNetwork(network).catch(() => undefined);
      throw err instanceof SandboxStartError ? err : new SandboxStartError(`sandbox ${name} failed to start: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes the guard (and a firewall left mid-way) of a sandbox network. */
  private async removeGuards(network: string): Promise<void> {
    await this.firewallRemovals.get(network);
    const filters = { label: [`${GUARD_LABEL}`, `${NETWORK_NAME_LABEL}=${network}`] };
    let lastError: unknown;
    // The engine can refuse a removal while a container is still settling: list and try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const list = await this.docker.listContainers({ all: true, filters });
      if (list.length === 0) return;
      const results = await Promise.allSettled(list.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true })));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isStatus(r.reason, 404));
      if (!failed) return;
      lastError = failed.reason;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw lastError;
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
      // After the sandbox: the guard owns the namespace the sandbox lived in.
      await this.removeGuards(network);
      if (this.opts.attachContainer) {
        await this.docker
          .getNetwork(network)
          .disconnect({ Container: this.opts.attachContainer, Force: true })
          .catch(() => undefined);
      }
      await this.removeNetwork(network);
    }
  }

  /** Sandboxes of this owner whose instance label is not ours (a previous, crashed server's). */
  async removeOrphans(): Promise<number> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_LABEL}=${this.opts.owner}`] } });
    const orphans = list.filter((c) => c.Labels[INSTANCE_LABEL] !== this.instanceId);
    await Promise.all(orphans.map((c) => this.destroy(c.Id)));
    // Guards and networks whose sandbox never started (a crash between the creates).
    const guards = await this.docker.listContainers({ all: true, filters: { label: [GUARD_LABEL, `${OWNER_LABEL}=${this.opts.owner}`] } });
    await Promise.all(
      guards
        .filter((c) => c.Labels[INSTANCE_LABEL] !== this.instanceId)
        .map((c) =>
          this.docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
    );
    const nets = await this.docker.listNetworks({ filters: { label: [`${NETWORK_LABEL}=1`, `${OWNER_LABEL}=${this.opts.owner}`] } });
    await Promise.all(nets.filter((n) => n.Labels?.[INSTANCE_LABEL] !== this.instanceId).map((n) => this.removeNetwork(n.Name)));
    return orphans.length;
  }

  /** Removes every sandbox this process created on this engine (a last resort after the pool's drain). */
  async removeAll(): Promise<number> {
    return this.removeAllExcept(new Set());
  }

  /**
   * Removes what this process made on this engine except the sandboxes in `keep` (and their
   * guards and networks): the leftovers of creates an engine outage cut off mid-way.
   */
  async removeAllExcept(keep: ReadonlySet<string>): Promise<number> {
    const list = await this.docker.listContainers({ all: true, filters: this.mine(`${SANDBOX_LABEL}=1`) });
    const stray = list.filter((c) => !keep.has(c.Id));
    const kept = new Set(list.filter((c) => keep.has(c.Id)).map((c) => c.Labels[NETWORK_NAME_LABEL]));
    await Promise.all(stray.map((c) => this.destroy(c.Id)));
    const guards = await this.docker.listContainers({ all: true, filters: this.mine(GUARD_LABEL) });
    await Promise.all(
      guards
        .filter((c) => !kept.has(c.Labels[NETWORK_NAME_LABEL]))
        .map((c) =>
          this.docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
    );
    const nets = await this.docker.listNetworks({ filters: this.mine(`${NETWORK_LABEL}=1`) });
    await Promise.all(nets.filter((n) => !kept.has(n.Name)).map((n) => this.removeNetwork(n.Name)));
    return stray.length;
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

  /** Whether the sandbox and guard images exist on the engine (no registry pull is ever attempted). */
  async hasImage(): Promise<boolean> {
    return (await this.missingImages()).length === 0;
  }

  /** Which of the sandbox and guard images the engine lacks. */
  async missingImages(): Promise<string[]> {
    const missing: string[] = [];
    for (const image of new Set([this.opts.image, this.opts.guardImage])) {
      try {
        await this.docker.getImage(image).inspect();
      } catch {
        missing.push(image);
      }
    }
    return missing;
  }
}
