import { existsSync } from 'node:fs';
import type { SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import type { SandboxConfig } from './config.js';
import { DockerRuntime, type DockerRuntimeOptions } from './docker.js';
import { UrlRuntime } from './url.js';
import { NoneRuntime } from './none.js';
import { SandboxPool } from './pool.js';
import { preloadModel } from './ollama.js';
import { NoModelError } from './errors.js';
import { MultiHostRuntime, type MultiHostOptions } from './hosts.js';
import { randomUUID } from 'node:crypto';

export { SandboxConfigSchema, sandboxConfigFromEnv, SANDBOX_ENV_NAMES, type SandboxConfig } from './config.js';
import type { DockerHostSpec } from './config.js';

/** Sockets tried, in order, when `DOCKER_HOST` is unset (Docker's, then rootful podman's). */
export const DEFAULT_ENGINE_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'];

function dockerRuntime(cfg: SandboxConfig, dockerHost: string | undefined, log: SandboxLogger, fleet?: Partial<DockerRuntimeOptions>): DockerRuntime {
  return new DockerRuntime({
    dockerHost,
    image: cfg.image,
    guardImage: cfg.guardImage,
    modelsDir: cfg.modelsDir,
    model: cfg.model,
    numCtx: cfg.numCtx,
    memoryMb: cfg.memoryMb,
    gpus: cfg.gpus,
    network: cfg.network,
    owner: cfg.owner,
    attachContainer: cfg.attachContainer,
    log,
    ...fleet,
  });
}

/**
 * The docker runtime over every engine of `SANDBOX_DOCKER_HOSTS`. They share one instance id
 * (engines may share storage, as two podman services on one machine do, and must not take each
 * other's sandboxes for orphans) and tell their sandboxes apart by host label. `perHost` adds
 * options to one engine's runtime (tests: the stand-in's environment).
 */
export function multiHostRuntime(
  cfg: SandboxConfig,
  log: SandboxLogger = silentLogger,
  opts: Omit<MultiHostOptions, 'log'> = {},
  perHost: (host: DockerHostSpec) => Partial<DockerRuntimeOptions> = () => ({}),
): MultiHostRuntime {
  const hosts = cfg.dockerHosts ?? [];
  const instanceId = randomUUID();
  return new MultiHostRuntime(
    hosts.map((h) => ({
      name: h.name,
      capacity: h.capacity,
      runtime: dockerRuntime(cfg, h.url, log, {
        hostName: h.name,
        instanceId,
        gpus: h.gpus === undefined ? cfg.gpus : h.gpus === 'none' ? undefined : h.gpus,
        ...perHost(h),
      }),
    })),
    { ...opts, log },
  );
}

/** Whether some engine of the fleet answers and has both images. */
async function fleetUsable(cfg: SandboxConfig, log: SandboxLogger): Promise<boolean> {
  for (const h of cfg.dockerHosts ?? []) {
    const rt = dockerRuntime(cfg, h.url, log);
    if (!(await rt.ping())) continue;
    const missing = await rt.missingImages();
    if (missing.length === 0) return true;
    log.warn({ host: h.name, missing }, 'sandbox host answers but an image is missing');
  }
  return false;
}

/**
 * Picks the runtime for `SANDBOX_RUNTIME`. `docker`, `url` and `none` are taken as given (a
 * docker engine that does not answer then shows as "offline", not as a crash). `auto` takes
 * docker when `DOCKER_HOST` (or a default socket) answers and the image is present, else `url`
 * when `OLLAMA_URL` is set, else `none`. With `SANDBOX_DOCKER_HOSTS`, docker means every engine
 * listed there ({@link MultiHostRuntime}), and `auto` takes it when one of them answers with the
 * images. Never throws for an unreachable engine.
 */
export async function selectRuntime(cfg: SandboxConfig, log: SandboxLogger = silentLogger): Promise<SandboxRuntime> {
  if (cfg.runtime === 'none') return new NoneRuntime();
  if (cfg.runtime === 'url') {
    if (!cfg.ollamaUrl) throw new Error('SANDBOX_RUNTIME=url needs OLLAMA_URL');
    return new UrlRuntime(cfg.ollamaUrl, log);
  }
  if (cfg.runtime === 'docker') return cfg.dockerHosts ? multiHostRuntime(cfg, log) : dockerRuntime(cfg, cfg.dockerHost, log);
  if (cfg.dockerHosts) {
    if (await fleetUsable(cfg, log)) {
      log.info({ hosts: cfg.dockerHosts.map((h) => h.name), image: cfg.image }, 'sandbox runtime: docker on several hosts');
      return multiHostRuntime(cfg, log);
    }
    log.warn('no host of SANDBOX_DOCKER_HOSTS answers with the images');
  }

  const candidates = cfg.dockerHosts ? [] : cfg.dockerHost ? [cfg.dockerHost] : DEFAULT_ENGINE_SOCKETS.filter((s) => existsSync(s)).map((s) => `unix://${s}`);
  for (const host of candidates) {
    const rt = dockerRuntime(cfg, host, log);
    if (!(await rt.ping())) continue;
    const missing = await rt.missingImages();
    if (missing.length === 0) {
      log.info({ dockerHost: host, image: cfg.image }, 'sandbox runtime: docker');
      return rt;
    }
    log.warn(
      { dockerHost: host, missing },
      'container engine answers but an image is missing (docker pull the sandbox image; build the app image for the guard)',
    );
  }
  if (cfg.ollamaUrl) {
    log.info({ url: cfg.ollamaUrl }, 'sandbox runtime: url');
    return new UrlRuntime(cfg.ollamaUrl, log);
  }
  log.warn('no container engine and no OLLAMA_URL: chat reports the AI as offline');
  return new NoneRuntime();
}

/**
 * Builds the pool for a runtime with the configured sizes. Ephemeral sandboxes preload the chat
 * model while warming up, with the options of every chat, so the first question does not pay
 * the model load. A model that is not pulled fails the start with {@link NoModelError} (the
 * pool's error and `/health/ollama` then say "no model pulled"); other preload failures are
 * logged and the container still serves, where chat reports the error.
 */
export function createSandboxPool(
  cfg: SandboxConfig,
  runtime: SandboxRuntime,
  log: SandboxLogger = silentLogger,
  /** The current default chat model (an admin can change it in Settings), else `cfg.model`. */
  model: () => Promise<string> = async () => cfg.model,
): SandboxPool {
  // Several engines: their capacities are the limit, and SANDBOX_MAX does not apply.
  const max = runtime instanceof MultiHostRuntime ? runtime.totalCapacity : cfg.max;
  return new SandboxPool(runtime, {
    minWarm: Math.min(cfg.minWarm, max),
    max,
    maxUses: cfg.maxUses,
    maxAgeMs: cfg.maxAgeMs,
    queueMax: cfg.queueMax,
    acquireTimeoutMs: cfg.acquireTimeoutMs,
    deadlines: { firstTokenMs: cfg.firstTokenTimeoutMs, idleMs: cfg.idleTimeoutMs },
    log,
    ...(runtime.ephemeral
      ? {
          prepare: async (inst) => {
            const name = await model().catch(() => cfg.model);
            try {
              await preloadModel(inst.baseUrl, name, { numCtx: cfg.numCtx });
            } catch (err) {
              if (err instanceof NoModelError) throw err;
              log.warn({ err, model: name }, 'could not preload the chat model');
            }
          },
        }
      : {}),
  });
}
