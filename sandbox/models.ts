import type Docker from 'dockerode';
import { resolve } from 'node:path';
import { MODEL_LABEL, OLLAMA_PORT, OWNER_LABEL, PULL_LABEL, SANDBOX_LABEL, prepareModelsDir } from './docker.js';
import { isCloudModel } from './config.js';
import { waitForOllama } from './ollama.js';

export { PULL_LABEL };

/** Why a pull did not start: another pull runs, or sandboxes serve the model. */
export class PullRefusedError extends Error {}

/** The fixed name of a deployment's pull container: the engine refuses a second one (409). */
export function pullContainerName(owner: string): string {
  return `cv-models-pull-${owner}`;
}

/** Ollama model references: `name[:tag]`, optionally with a registry/namespace path. */
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/]*(:[A-Za-z0-9._-]+)?$/;

/** Whether `model` looks like an Ollama model reference (checked before it reaches a container). */
export function isValidModelName(model: string): boolean {
  return model.length <= 200 && MODEL_RE.test(model) && !model.includes('..');
}

// Runs `ollama serve` in the background and `ollama pull` against it: the CLI is only a client.
// The model arrives as $1, never spliced into the script.
const PULL_SCRIPT = [
  'command -v ollama >/dev/null || { echo "no ollama binary in this image" >&2; exit 127; }',
  'ollama serve >/dev/null 2>&1 &',
  'i=0; until ollama list >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && echo "ollama did not start" >&2 && exit 1; sleep 0.2; done',
  'ollama pull "$1"',
].join('\n');

/** What {@link buildPullContainerSpec} needs. */
export interface PullSpecOptions {
  image: string;
  modelsDir: string;
  owner: string;
  model: string;
  /** Network with egress (default `bridge`): the one place the project lets Ollama reach out. */
  network?: string;
}

/**
 * The create body of the one-off pull container: the sandbox image with the weights directory
 * mounted read-WRITE and a normal, networked bridge, running `ollama pull <model>`. Everything
 * else stays locked down (read-only root, tmpfs HOME and /tmp, no capabilities). It never sees
 * user data, so its logs are kept (the progress bars are the point).
 */
export function buildPullContainerSpec(opts: PullSpecOptions): Docker.ContainerCreateOptions {
  if (!isValidModelName(opts.model)) throw new Error(`not a model name: ${opts.model}`);
  if (isCloudModel(opts.model)) throw new Error(`${opts.model} is a cloud model: it runs on ollama.com and would get the prompts`);
  return {
    name: pullContainerName(opts.owner),
    Image: opts.image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [PULL_SCRIPT, 'pull', opts.model],
    // OLLAMA_NO_CLOUD: a pull needs the model registry, not ollama.com's cloud features.
    Env: ['HOME=/root', 'OLLAMA_HOST=127.0.0.1:11434', 'OLLAMA_MODELS=/models', 'OLLAMA_NOHISTORY=1', 'OLLAMA_NO_CLOUD=1'],
    Labels: { [PULL_LABEL]: '1', [OWNER_LABEL]: opts.owner, [MODEL_LABEL]: opts.model },
    Tty: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=512m', '/root': 'rw,nosuid,nodev,size=64m,mode=700' },
      Mounts: [{ Type: 'bind', Source: resolve(opts.modelsDir), Target: '/models', ReadOnly: false }],
      NetworkMode: opts.network ?? 'bridge',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 1024,
      RestartPolicy: { Name: 'no' },
    },
  };
}

/**
 * Makes sure `image` is on the engine, pulling it (with its progress on `out`) when it is not:
 * the one place the project pulls an image. Throws with the image's name when the pull fails.
 */
export async function ensureImage(docker: Docker, image: string, out: NodeJS.WritableStream = process.stderr): Promise<'present' | 'pulled'> {
  try {
    await docker.getImage(image).inspect();
    return 'present';
  } catch {
    // Not here: pull it.
  }
  out.write(`pulling image ${image}\n`);
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((res, rej) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? rej(err) : res()),
        (e: { status?: string; progress?: string; id?: string }) => {
          if (e.status && !e.progress) out.write(`${e.id ? `${e.id}: ` : ''}${e.status}\n`);
        },
      ),
    );
    await docker.getImage(image).inspect();
  } catch (err) {
    throw new Error(`could not pull image ${image}: ${(err as Error).message}`, { cause: err });
  }
  return 'pulled';
}

function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === code;
}

/**
 * Fills the models directory: starts ONE separate, networked, one-off container of the sandbox
 * image with the directory mounted read-write, runs `ollama pull <model>` in it, streams its
 * progress to `out`, and removes it whatever happens. Inference sandboxes never get network or a
 * writable models mount; this explicit step is the only way weights arrive. Run it as
 * `npm run models -- pull llama3.1:8b`. Resolves to the exit code of `ollama pull`.
 *
 * Re-pulling a tag deletes the blobs it no longer uses and the manifest is not written
 * atomically (ollama v0.32.15 server/images.go PullModel -> deleteUnusedLayers, and
 * manifest/manifest.go WriteManifest, which truncates in place), so a pull runs only
 * while no sandbox serves that model, and one at a time: its container has a fixed name (the
 * engine refuses a second one), and while it exists the runtime starts no sandbox. Throws
 * {@link PullRefusedError} otherwise, before anything is downloaded.
 */
export async function pullModel(
  docker: Docker,
  opts: PullSpecOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const spec = buildPullContainerSpec(opts);
  prepareModelsDir(opts.modelsDir);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec);
  } catch (e) {
    // Docker answers 409; podman 500 "... is already in use".
    if (isStatus(e, 409) || /already in use/i.test((e as Error).message))
      throw new PullRefusedError(`Another model pull is running (container ${spec.name}); pull one model at a time.`);
    throw e;
  }
  // Created first, so a sandbox starting from now on sees the pull and waits.
  const cleanup = () => container.remove({ force: true }).catch(() => undefined);
  const serving = await docker.listContainers({
    filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_LABEL}=${opts.owner}`, `${MODEL_LABEL}=${opts.model}`], status: ['created', 'running'] },
  });
  if (serving.length > 0) {
    await cleanup();
    throw new PullRefusedError(
      `${serving.length} sandbox(es) are serving ${opts.model}; a pull would replace its files under them. Stop the app first (docker compose stop app), pull, then start it again.`,
    );
  }
  // Ctrl-C must not leave a networked container with a writable models mount behind.
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    docker.modem.demuxStream(stream, out, err);
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    (stream as unknown as { destroy?: () => void }).destroy?.();
    return result.StatusCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

/** What {@link openModelsContainer} needs. */
export interface ModelsContainerOptions extends PullSpecOptions {
  /** The API server's own container (docker compose): it joins the network to reach this one. */
  attachContainer?: string | undefined;
  /** Extra environment (tests: the stand-in's registry). */
  extraEnv?: Record<string, string>;
  /** How long `ollama serve` may take to answer (default 60 s). */
  readyTimeoutMs?: number;
}

/** A running models container: its Ollama API, and its removal. */
export interface ModelsContainer {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The server's way to change the models directory (Settings -> Models): the same one-off,
 * networked container as {@link pullModel}, with the same fixed name and the same refusals
 * (another pull running, or sandboxes serving `opts.model`), running the image's own
 * `ollama serve` on 11434 so the server drives `/api/pull` (NDJSON progress) and `/api/delete`
 * over HTTP. Resolves once Ollama answers; `close()` removes the container (and detaches the
 * app's). Throws {@link PullRefusedError} before anything starts when it may not run.
 */
export async function openModelsContainer(docker: Docker, opts: ModelsContainerOptions): Promise<ModelsContainer> {
  if (!isValidModelName(opts.model)) throw new Error(`not a model name: ${opts.model}`);
  const base = buildPullContainerSpec(opts);
  const network = opts.network ?? 'bridge';
  // The image's own entrypoint and command (`ollama serve`); listening on every address of its
  // network so the server reaches it there.
  const { Entrypoint: _e, Cmd: _c, ...rest } = base;
  const spec: Docker.ContainerCreateOptions = {
    ...rest,
    Env: [
      ...(base.Env ?? []).filter((e) => !e.startsWith('OLLAMA_HOST=')),
      `OLLAMA_HOST=0.0.0.0:${OLLAMA_PORT}`,
      ...Object.entries(opts.extraEnv ?? {}).map(([k, v]) => `${k}=${v}`),
    ],
  };
  prepareModelsDir(opts.modelsDir);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec);
  } catch (e) {
    if (isStatus(e, 409) || /already in use/i.test((e as Error).message)) throw new PullRefusedError('Another model pull or delete is running; one at a time.');
    throw e;
  }
  let attached = false;
  const close = async () => {
    if (attached)
      await docker
        .getNetwork(network)
        .disconnect({ Container: opts.attachContainer, Force: true })
        .catch(() => undefined);
    await container.remove({ force: true }).catch(() => undefined);
  };
  try {
    const serving = await docker.listContainers({
      filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_LABEL}=${opts.owner}`, `${MODEL_LABEL}=${opts.model}`], status: ['created', 'running'] },
    });
    if (serving.length > 0) throw new PullRefusedError(`${serving.length} sandbox(es) are serving ${opts.model}; try again when no chat uses it.`);
    await container.start();
    if (opts.attachContainer) {
      await docker.getNetwork(network).connect({ Container: opts.attachContainer });
      attached = true;
    }
    const info = await container.inspect();
    const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
    if (!ip) throw new Error(`the models container has no address on network ${network}`);
    const baseUrl = `http://${ip}:${OLLAMA_PORT}`;
    const alive = async () => (await container.inspect().catch(() => undefined))?.State.Running === true;
    if (!(await waitForOllama(baseUrl, opts.readyTimeoutMs ?? 60_000, 100, alive)))
      throw new Error(`the models container (${opts.image}) did not answer on ${baseUrl}`);
    return { baseUrl, close };
  } catch (err) {
    await close();
    throw err;
  }
}
