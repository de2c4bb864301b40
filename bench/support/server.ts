import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

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
  stop(): Promise<void>;
}

/** Starts `bench/support/bench-server.ts` in a child process on a fresh data directory. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-'));
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each server process there (on stop).
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // The same Node flags as `npm start` and the Dockerfile, so memory figures are the server's.
  const child: ChildProcess = spawn(process.execPath, [...prof, '--max-semi-space-size=2', '--import', 'tsx', 'bench/support/bench-server.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', RATE_LIMIT_AUTH_PER_MIN: '100000', SANDBOX_RUNTIME: 'none', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      // BENCH_LOG_LEVEL shows the server's log (on stderr); otherwise it is dropped.
      if (process.env.BENCH_LOG_LEVEL) process.stderr.write(c);
      buf += c.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
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
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` from `concurrency` loops for `ms` and returns completed calls per second. */
export async function throughput(fn: () => Promise<void>, concurrency: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}
