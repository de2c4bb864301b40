import type Docker from 'dockerode';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { OWNER_LABEL } from './docker.js';

/** Label on the one-off model-pull container (not a sandbox: orphan removal leaves it alone). */
export const PULL_LABEL = 'context-vault.models-pull';

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
  return {
    Image: opts.image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [PULL_SCRIPT, 'pull', opts.model],
    Env: ['HOME=/root', 'OLLAMA_HOST=127.0.0.1:11434', 'OLLAMA_MODELS=/models', 'OLLAMA_NOHISTORY=1'],
    Labels: { [PULL_LABEL]: '1', [OWNER_LABEL]: opts.owner },
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
 * Fills the models directory: starts ONE separate, networked, one-off container of the sandbox
 * image with the directory mounted read-write, runs `ollama pull <model>` in it, streams its
 * progress to `out`, and removes it whatever happens. Inference sandboxes never get network or a
 * writable models mount; this explicit step is the only way weights arrive. Run it as
 * `npm run models -- pull llama3.1:8b`. Resolves to the exit code of `ollama pull`.
 */
export async function pullModel(
  docker: Docker,
  opts: PullSpecOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  mkdirSync(resolve(opts.modelsDir), { recursive: true });
  const container = await docker.createContainer(buildPullContainerSpec(opts));
  // Ctrl-C must not leave a networked container with a writable models mount behind.
  const onSignal = () => void container.remove({ force: true }).finally(() => process.exit(130));
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
    await container.remove({ force: true }).catch(() => undefined);
  }
}
