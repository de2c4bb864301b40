import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { multipart } from './harness.js';

const BENCH_SERVER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/support/bench-server.ts');

/**
 * Starts the real server (bench/support/bench-server.ts: the app plus a bench echo route) in its
 * own process under tsx, with `nodeFlags` (`npm start` runs with `--max-semi-space-size=4`), and
 * resolves with its port once it listens. Its log goes to stderr; `onStdout` sees its stdout.
 */
export async function spawnServer(
  env: NodeJS.ProcessEnv,
  opts: { name?: string; nodeFlags?: string[]; onStdout?: (chunk: Buffer) => unknown; execPath?: string } = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(opts.execPath ?? process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', BENCH_SERVER], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      opts.onStdout?.(c);
      buf += c.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${opts.name ?? 'server'} exited with ${code}`)));
  });
  return { child, port };
}

/**
 * A server process for tests that need what an in-process server cannot give: a real
 * `kill -9`, or several instances on one database. Spoken to over real HTTP.
 */
export class ServerProcess {
  child: ChildProcess | undefined;
  url = '';
  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly nodeFlags: string[] = [],
  ) {}

  async start(): Promise<void> {
    const { child, port } = await spawnServer(
      { ...process.env, LOG_LEVEL: 'warn', SANDBOX_RUNTIME: 'none', PORT: '0', ...this.env },
      { name: `instance ${this.name}`, nodeFlags: this.nodeFlags },
    );
    this.child = child;
    this.url = `http://127.0.0.1:${port}`;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }

  /** A JSON request, with the session cookie if given; `cookie` in the result is one the server set. */
  async call<T>(method: string, url: string, cookie?: string, body?: unknown): Promise<{ status: number; body: T; cookie?: string }> {
    const res = await fetch(this.url + url, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('cv_session='));
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, cookie: set?.split(';')[0] };
  }

  /** Starts an Apple Health import of `file` (an export.xml) and returns its job id. */
  async upload(cookie: string, file: string): Promise<string> {
    const mp = multipart({ name: 'export.xml', type: 'text/xml', data: readFileSync(file) }, {}, { cookie });
    const res = await fetch(`${this.url}/api/import/apple-health`, { method: 'POST', headers: mp.headers, body: mp.payload });
    if (res.status !== 202) throw new Error(`instance ${this.name} refused the import: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { jobId: string }).jobId;
  }

  /** Polls a job until `until` holds, or fails after `ms`. */
  async waitJob<J extends { status: string }>(cookie: string, id: string, until: (j: J) => boolean, ms = 240_000): Promise<J> {
    const end = Date.now() + ms;
    for (;;) {
      const { body } = await this.call<J>('GET', `/api/jobs/${id}`, cookie);
      if (until(body)) return body;
      if (Date.now() > end) throw new Error(`job ${id} still ${body.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
