import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnServer } from '../../test-support/server/server-process.js';

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  /** Peak resident set size of the server process so far (VmHWM), in MB. */
  peakRssMb(): Promise<number>;
  /**
   * Restarts the peak at the current RSS (Linux: `5` to /proc/PID/clear_refs), so a peak read
   * later is the measured operation's and not an earlier spike's: a sign-in's Argon2id alone
   * allocates 64 MiB for a moment.
   */
  resetPeak(): Promise<void>;
  rssMb(): Promise<number>;
  /** CPU time the server process has used so far (user + system), in ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The young generation's semi-space size the servers run with: `npm start`'s and the Dockerfile's
 * (4 MB), unless BENCH_SEMI_SPACE_MB says otherwise, to measure the trade between garbage
 * collection's CPU and resident memory (docs/scale.md, eleventh and twelfth stops).
 */
const SEMI_SPACE = `--max-semi-space-size=${process.env.BENCH_SEMI_SPACE_MB ?? 4}`;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts `bench/support/bench-server.ts` in a child process on a fresh data directory; with
 * `build`, the production build instead (`dist/server/main.js` as `npm start` runs it, built first
 * when stale): memory figures are then the server's own, without tsx's loader, module sources and
 * source maps (~60 MB of RSS), and without the bench-only routes.
 */
export async function startBenchServer(env: Record<string, string> = {}, opts: { build?: boolean } = {}): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-'));
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server process there (on stop).
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // The same Node flags as `npm start` and the Dockerfile, so memory figures are the server's.
  const serverEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    SANDBOX_RUNTIME: 'none',
    ...env,
  };
  const { child, port } = opts.build
    ? await spawnBuild(serverEnv, [...prof, SEMI_SPACE])
    : await spawnServer(serverEnv, {
        name: 'bench server',
        nodeFlags: [...prof, SEMI_SPACE],
        // BENCH_SERVER_NODE=<path to a node binary>: the servers run on another Node.js than the
        // bench (tracing's cost depends on how the runtime implements AsyncLocalStorage).
        execPath: process.env.BENCH_SERVER_NODE,
        // BENCH_LOG_LEVEL shows the server's log (on stderr); otherwise it is dropped.
        onStdout: process.env.BENCH_LOG_LEVEL ? (c) => process.stderr.write(c) : undefined,
      });
  const status = async (field: string) => {
    const text = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(text);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    dataDir,
    peakRssMb: () => status('VmHWM'),
    resetPeak: () => writeFile(`/proc/${child.pid}/clear_refs`, '5'),
    rssMb: () => status('VmRSS'),
    cpuMs: async () => {
      // utime and stime (fields 14 and 15 of /proc/PID/stat), in clock ticks of 10 ms.
      const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    stop: async () => {
      // Twice is harmless (a bench may stop a server early to flush it, then again in finally).
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoadResult {
  /** Completed requests per second. */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /**
   * Server CPU time per request (when the server was given), in us: steadier than throughput
   * on a machine shared with other work, since it does not count time the server waited.
   */
  cpuUs?: number;
  /** The database processes' CPU time per request (when `dbCpuMs` was given), in us. */
  dbCpuUs?: number;
}

/**
 * Closed-loop load: `concurrency` keep-alive connections, each sending its next request as soon
 * as the last one is answered, for `ms` (at most `maxRequests`). A light client (node:http, no
 * body parsing), so the figure is the server's. Any status but `expect` fails the run.
 */
export async function load(
  url: string,
  next: () => { path: string; method?: string; body?: string },
  opts: {
    concurrency: number;
    ms: number;
    cookie?: string;
    expect?: number;
    maxRequests?: number;
    server?: BenchServer;
    /** CPU time (ms) of the database's own processes so far (see pg-backend-cpu.ts). */
    dbCpuMs?: () => Promise<number>;
  },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  const end = Date.now() + opts.ms;
  const max = opts.maxRequests ?? Infinity;
  const one = () => {
    const { path, method = 'GET', body } = next();
    const headers: Record<string, string> = opts.cookie ? { cookie: opts.cookie } : {};
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      const req = request(`${url}${path}`, { method, agent, headers }, (res) => {
        res.resume();
        res.on('error', reject).on('end', () => {
          if (res.statusCode !== (opts.expect ?? 200)) return reject(new Error(`${method} ${path} answered ${res.statusCode}`));
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  const cpuBefore = await opts.server?.cpuMs();
  const dbBefore = await opts.dbCpuMs?.();
  const start = performance.now();
  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (Date.now() < end && latencies.length < max) await one();
      }),
    );
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - start) / 1000;
  const cpuUs = opts.server ? (((await opts.server.cpuMs()) - cpuBefore!) * 1000) / latencies.length : undefined;
  const dbCpuUs = opts.dbCpuMs ? (((await opts.dbCpuMs()) - dbBefore!) * 1000) / latencies.length : undefined;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), requests: latencies.length, cpuUs, dbCpuUs };
}

/** The production build on a free port, ready once `/health` answers. */
async function spawnBuild(env: NodeJS.ProcessEnv, nodeFlags: string[]): Promise<{ child: ChildProcess; port: number }> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
  const child = spawn(process.env.BENCH_SERVER_NODE ?? process.execPath, [...nodeFlags, path.join(ROOT, 'dist', 'server', 'main.js')], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the built server exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { child, port };
    await new Promise((r) => setTimeout(r, 100));
  }
}
