import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { SandboxInstance, SandboxRuntime } from '../../sandbox/runtime.js';
import { SandboxStartError } from '../../sandbox/errors.js';
import { bundleFakeOllama } from './bundle.js';

/** Options of {@link ProcessRuntime}. */
export interface ProcessRuntimeOptions {
  /** Directory of pid files; a later runtime on the same directory finds the orphans. */
  stateDir: string;
  /** Extra environment for the stand-in (FAKE_OLLAMA_TOKENS, FAKE_OLLAMA_TOKEN_DELAY_MS, ...). */
  env?: Record<string, string>;
  /** Readiness timeout per instance (default 10 s). */
  startTimeoutMs?: number;
  /** Makes the next `create()` calls fail, to exercise warm-up failures. */
  failCreates?: number;
}

// Written into each pid file and checked before killing, so a recycled pid is never killed.
const MARKER = 'fake-ollama-';

/**
 * A test runtime standing in for Docker (it reports kind `docker`: ephemeral instances the pool
 * creates and destroys) whose "containers" are real child processes running the
 * Ollama stand-in on a free port. Each live child has a pid file in `stateDir`; a runtime that
 * starts on the same directory treats every pid file it did not create as an orphan, exactly as
 * the Docker runtime treats labelled containers left by a crashed server.
 */
export class ProcessRuntime implements SandboxRuntime {
  readonly kind = 'docker' as const;
  readonly ephemeral = true;
  readonly children = new Map<string, ChildProcess>();
  private failCreates: number;
  private down = false;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    mkdirSync(opts.stateDir, { recursive: true });
    this.failCreates = opts.failCreates ?? 0;
  }

  /** Makes the next `n` creates fail (tests of warm-up failure). */
  failNextCreates(n: number): void {
    this.failCreates = n;
  }

  /**
   * Makes this "engine" stop answering, as a host that dies does: its API refuses every call
   * and, with `killInstances`, the processes it ran are gone too.
   */
  goDown({ killInstances = false } = {}): void {
    this.down = true;
    if (killInstances) for (const child of this.children.values()) child.kill('SIGKILL');
  }

  /** Makes the engine answer again. */
  comeBack(): void {
    this.down = false;
  }

  private refuseWhenDown(): void {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED (process runtime is down)'), { code: 'ECONNREFUSED' });
  }

  async create(): Promise<SandboxInstance> {
    this.refuseWhenDown();
    if (this.failCreates > 0) {
      this.failCreates--;
      throw new SandboxStartError('process runtime: injected start failure');
    }
    const script = await bundleFakeOllama();
    const id = `p-${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OLLAMA_HOST: '127.0.0.1:0', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = child.pid;
    if (pid === undefined) throw new SandboxStartError('process runtime: spawn failed');
    writeFileSync(join(this.opts.stateDir, `${id}.pid`), `${pid}\n${MARKER}${script}\n`);
    this.children.set(id, child);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SandboxStartError('process runtime: readiness timeout')), this.opts.startTimeoutMs ?? 10_000);
        const rl = createInterface({ input: child.stdout! });
        rl.once('line', (line) => {
          clearTimeout(timer);
          rl.close();
          try {
            resolve((JSON.parse(line) as { listening: number }).listening);
          } catch (err) {
            reject(new SandboxStartError(`process runtime: bad banner ${line}`, { cause: err }));
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new SandboxStartError(`process runtime: exited with ${code} before ready`));
        });
      });
      // Detach our event loop from the child: a test or bench that forgets drain() still exits.
      child.stdout?.destroy();
      child.unref();
      return { id, baseUrl: `http://127.0.0.1:${port}` };
    } catch (err) {
      await this.destroy(id);
      throw err;
    }
  }

  async destroy(id: string): Promise<void> {
    this.refuseWhenDown();
    const child = this.children.get(id);
    this.children.delete(id);
    rmSync(join(this.opts.stateDir, `${id}.pid`), { force: true });
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Unref'd after start; without a ref the wait for 'exit' could leave the loop empty.
      child.ref();
      // SIGKILL mirrors `docker rm -f`: nothing gets a chance to persist on the way out.
      child.kill('SIGKILL');
    });
  }

  async removeOrphans(): Promise<number> {
    this.refuseWhenDown();
    let removed = 0;
    for (const file of readdirSync(this.opts.stateDir)) {
      if (!file.endsWith('.pid')) continue;
      const id = file.slice(0, -4);
      if (this.children.has(id)) continue;
      const path = join(this.opts.stateDir, file);
      const [pidLine] = readFileSync(path, 'utf8').split('\n');
      const pid = Number(pidLine);
      if (Number.isInteger(pid) && pid > 0 && isOurProcess(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
          await waitGone(pid);
          removed++;
        } catch {
          // Already gone between the check and the kill.
        }
      }
      rmSync(path, { force: true });
    }
    return removed;
  }

  async ping(): Promise<boolean> {
    return !this.down;
  }
}

/** The pids of the live children (tests check the real processes come and go). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A killed child that nobody reaped is a zombie: gone for our purposes.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function isOurProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(MARKER);
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}
