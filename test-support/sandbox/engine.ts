import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { dockerFromHost } from '../../sandbox/docker.js';
import { bundleFakeOllama } from './bundle.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a container engine might answer, most explicit first. */
export function engineHost(): string | undefined {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  for (const s of ['/run/podman/podman.sock', '/var/run/docker.sock']) if (existsSync(s)) return `unix://${s}`;
  return undefined;
}

/** Runs scripts/podman-engine.sh (installs and starts rootful podman's Docker API service). */
export function startPodmanEngine(): void {
  execFileSync('sh', [join(repoRoot, 'scripts/podman-engine.sh')], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
}

/** CI sets SANDBOX_ENGINE_TESTS=1: then the engine is started (connectEngine) and the engine suites must run. */
export const ENGINE_REQUIRED = process.env.SANDBOX_ENGINE_TESTS === '1';

async function engineAnswers(host: string | undefined): Promise<boolean> {
  if (!host) return false;
  try {
    await Promise.race([dockerFromHost(host).ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000))]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a suite that needs a container engine cannot run here (also logged, under `suite`), or
 * undefined when it can: an engine answers, or SANDBOX_ENGINE_TESTS=1 makes it a requirement.
 */
export async function engineSkipReason(suite: string): Promise<string | undefined> {
  if (ENGINE_REQUIRED || (await engineAnswers(engineHost()))) return undefined;
  const reason = `no container engine answers (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}, /run/podman/podman.sock, /var/run/docker.sock); set SANDBOX_ENGINE_TESTS=1 to start podman`;
  console.warn(`[${suite}] skipped: ${reason}`);
  return reason;
}

/**
 * For an engine suite's beforeAll: starts podman when the engine is required, and returns a
 * client of the engine, checked with a ping (where a required engine that does not answer fails).
 */
export async function connectEngine(): Promise<Docker> {
  if (ENGINE_REQUIRED) startPodmanEngine();
  const docker = dockerFromHost(engineHost() ?? 'unix:///run/podman/podman.sock');
  await docker.ping();
  return docker;
}

/** Output and exit code of a command run inside a container. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker exec` through dockerode, collecting demultiplexed output. */
export async function execIn(docker: Docker, containerId: string, cmd: string[], timeoutMs = 30_000): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`exec timed out: ${cmd.join(' ')}`)), timeoutMs);
    stream.on('end', () => (clearTimeout(t), res()));
    stream.on('close', () => (clearTimeout(t), res()));
    stream.on('error', (x: Error) => (clearTimeout(t), rej(x)));
  });
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    info = await exec.inspect();
  }
  return { code: info.ExitCode ?? -1, stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() };
}

/** Host files the test image carries for the sandbox guard's firewall (Debian's iptables, nft flavour). */
const IPTABLES = '/usr/sbin/xtables-nft-multi';
const XTABLES_DIR =
  ['/usr/lib/x86_64-linux-gnu/xtables', '/usr/lib/aarch64-linux-gnu/xtables', '/usr/lib/xtables'].find((d) => existsSync(d)) ?? '/usr/lib/xtables';

/** Copies the shared libraries `ldd` lists for `bin` into `root`, at the same paths. */
function copyLibs(root: string, bin: string): void {
  for (const l of execFileSync('ldd', [bin], { encoding: 'utf8' }).split('\n')) {
    const lib = /(\/\S+)\s+\(0x/.exec(l)?.[1];
    if (!lib || existsSync(join(root, lib))) continue;
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
}

/**
 * Builds (once per content hash) a registry-free image whose CMD is the Ollama stand-in:
 * Debian's static busybox (for exec'd test commands), this machine's node binary with the shared
 * libraries `ldd` lists, the bundled stand-in, and iptables (so the same image also serves as
 * the sandbox's guard image, as the app's image does in production). Like ollama/ollama it sets
 * `NVIDIA_VISIBLE_DEVICES=all` and has no user of its own. Imported as a rootfs tarball through
 * dockerode's `importImage`, which tags `:latest`, so the hash goes into the repository name.
 */
export async function ensureFakeOllamaImage(docker: Docker): Promise<string> {
  const bundle = await bundleFakeOllama();
  const node = process.execPath;
  const hash = createHash('sha256').update(readFileSync(bundle)).update(node).update('iptables-v1').digest('hex').slice(0, 12);
  const name = `localhost/cv-fake-ollama-${hash}:latest`;
  try {
    await docker.getImage(name).inspect();
    return name;
  } catch {
    // Not built yet.
  }
  const root = mkdtempSync(join(tmpdir(), 'cv-rootfs-'));
  const tar = `${root}.tar`;
  try {
    for (const d of ['bin', 'usr/bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'models', 'app', 'run', 'var/tmp'])
      mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(root, 'bin', a));
    copyFileSync(node, join(root, 'usr/bin/node'));
    chmodSync(join(root, 'usr/bin/node'), 0o755);
    copyLibs(root, node);
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    copyFileSync(IPTABLES, join(root, IPTABLES));
    chmodSync(join(root, IPTABLES), 0o755);
    copyLibs(root, IPTABLES);
    for (const a of ['iptables', 'iptables-restore', 'ip6tables', 'ip6tables-restore']) symlinkSync('xtables-nft-multi', join(root, 'usr/sbin', a));
    mkdirSync(join(root, XTABLES_DIR), { recursive: true });
    for (const ext of readdirSync(XTABLES_DIR)) {
      copyFileSync(join(XTABLES_DIR, ext), join(root, XTABLES_DIR, ext));
      copyLibs(root, join(XTABLES_DIR, ext));
    }
    copyFileSync(bundle, join(root, 'app/fake-ollama.mjs'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    const repo = name.slice(0, name.lastIndexOf(':'));
    const stream = await docker.importImage(tar, {
      repo,
      tag: 'latest',
      changes: ['CMD ["/usr/bin/node", "/app/fake-ollama.mjs"]', 'ENV PATH=/usr/sbin:/usr/bin:/bin', 'ENV NVIDIA_VISIBLE_DEVICES=all'],
    } as object);
    await new Promise<void>((res, rej) => docker.modem.followProgress(stream, (err: Error | null) => (err ? rej(err) : res())));
    await docker.getImage(name).inspect();
    return name;
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(tar, { force: true });
  }
}
