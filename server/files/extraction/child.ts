import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { ExtractionFailure, type ExtractionCode } from './reasons.js';

export interface ChildLimits {
  timeoutMs: number;
  /** Address-space limit, applied with util-linux `prlimit` where it exists. */
  memoryMb: number;
  /** Output beyond this kills the process (a page rasterised at an absurd size). */
  maxOutputBytes: number;
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** The executable a name resolves to on PATH (or the path itself), or null when there is none. */
export function findExecutable(bin: string): string | null {
  const candidates = bin.includes('/')
    ? [bin]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * Runs a tool with `input` on stdin and returns its stdout: the plaintext never touches disk.
 * It is killed when it runs past the time limit or writes more than allowed; its memory is
 * capped by prlimit. Errors carry fixed codes only (stderr can quote the input and is dropped).
 */
export function runLimited(
  executable: string,
  args: string[],
  input: Uint8Array,
  limits: ChildLimits,
  missing: ExtractionCode,
  signal?: AbortSignal,
): Promise<Buffer> {
  const [cmd, argv] = PRLIMIT ? [PRLIMIT, [`--as=${limits.memoryMb * 1024 * 1024}`, '--', executable, ...args]] : [executable, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      stdio: ['pipe', 'pipe', 'ignore'],
      // One thread: the server shares its cores; a page at a time is enough.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OMP_THREAD_LIMIT: '1', LANG: 'C.UTF-8' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: ExtractionFailure | undefined;
    const stop = (code: ExtractionCode) => {
      failure ??= new ExtractionFailure(code);
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timed_out'), limits.timeoutMs);
    const onAbort = () => stop('timed_out');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limits.maxOutputBytes) return stop('page_too_large');
      chunks.push(c);
    });
    // A tool that exits before reading all of stdin closes the pipe: not an error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err.code === 'ENOENT' ? new ExtractionFailure(missing) : new ExtractionFailure('damaged'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new ExtractionFailure('damaged'));
      resolve(Buffer.concat(chunks));
    });
  });
}
