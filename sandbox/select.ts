import { existsSync } from 'node:fs';
import type { SandboxLogger, SandboxRuntime } from './runtime.js';
import { silentLogger } from './runtime.js';
import type { SandboxConfig } from './config.js';
import { DockerRuntime } from './docker.js';
import { UrlRuntime } from './url.js';
import { NoneRuntime } from './none.js';
import { SandboxPool } from './pool.js';
import { preloadModel } from './ollama.js';
import { NoModelError } from './errors.js';

export { SandboxConfigSchema, sandboxConfigFromEnv, SANDBOX_ENV_NAMES, type SandboxConfig } from './config.js';

/** Sockets tried, in order, when `DOCKER_HOST` is unset (Docker's, then rootful podman's). */
export const DEFAULT_ENGINE_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'];

function dockerRuntime(cfg: SandboxConfig, dockerHost: string | undefined, log: SandboxLogger): DockerRuntime {
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
  });
}

/**
 * Picks the runtime for `SANDBOX_RUNTIME`. `docker`, `url` and `none` are taken as given (a
 * docker engine that does not answer then shows as "offline", not as a crash). `auto` takes
 * docker when `DOCKER_HOST` (or a default socket) answers and the image is present, else `url`
 * when `OLLAMA_URL` is set, else `none`. Never throws for an unreachable engine.
 */
export async function selectRuntime(cfg: SandboxConfig, log: SandboxLogger = silentLogger): Promise<SandboxRuntime> {
  if (cfg.runtime === 'none') return new NoneRuntime();
  if (cfg.runtime === 'url') {
    if (!cfg.ollamaUrl) throw new Error('SANDBOX_RUNTIME=url needs OLLAMA_URL');
    return new UrlRuntime(cfg.ollamaUrl, log);
  }
  if (cfg.runtime === 'docker') return dockerRuntime(cfg, cfg.dockerHost, log);

  const candidates = cfg.dockerHost ? [cfg.dockerHost] : DEFAULT_ENGINE_SOCKETS.filter((s) => existsSync(s)).map((s) => `unix://${s}`);
  for (const host of candidates) {
    const rt = dockerRuntime(cfg, host, log);
    if (!(await rt.ping())) continue;
    const missing = await rt.missingImages();
    if (missing.length === 0) {
      log.info({ dockerHost: host, image: cfg.image }, 'sandbox runtime: docker');
      return rt;
    }
    log.warn({ dockerHost: host, missing }, 'container engine answers but an image is missing (docker pull the sandbox image; build the app image for the guard)');
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
  return new SandboxPool(runtime, {
    minWarm: cfg.minWarm,
    max: cfg.max,
    maxUses: cfg.maxUses,
    maxAgeMs: cfg.maxAgeMs,
    queueMax: cfg.queueMax,
    acquireTimeoutMs: cfg.acquireTimeoutMs,
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
