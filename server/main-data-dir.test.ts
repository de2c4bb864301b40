import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataDirFailure } from './config.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

/** `npm start` with this environment: its exit code and what it wrote to stderr. */
async function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', SANDBOX_RUNTIME: 'none', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('a data directory the server can read but not write in', () => {
  it('is refused in one line naming DATA_DIR, with exit code 2 like every configuration error', async () => {
    // An existing install on a read-only disk passes the configuration (the key is given, the
    // folder exists) and failed creating pg.lock with the bare system error and exit code 1.
    // sysfs refuses every new file, to root as well: a folder nobody can write in, on any Linux.
    const r = await start({ DATA_DIR: '/sys', SERVER_KEY: randomBytes(32).toString('base64') });
    expect(r.stderr).toMatch(
      /^Invalid configuration:\n {2}DATA_DIR: cannot create or write the data directory \((EACCES: permission denied|EROFS: read-only file system), open '\/sys\/pg\.lock'\)\n$/,
    );
    expect(r.code).toBe(2);
  });
});

describe('dataDirFailure', () => {
  const dir = path.join(tmpdir(), 'cv-install');
  const systemError = (code: string, file: string) =>
    Object.assign(new Error(`${code}: read-only file system, open '${file}'`), { code, syscall: 'open', path: file });

  it('names DATA_DIR for a file-system error on a path inside it', () => {
    expect(dataDirFailure(systemError('EROFS', path.join(dir, 'pg.lock')), dir)?.issues).toEqual([
      `DATA_DIR: cannot create or write the data directory (EROFS: read-only file system, open '${path.join(dir, 'pg.lock')}')`,
    ]);
  });

  it('leaves other errors alone: another path, or no system call', () => {
    expect(dataDirFailure(systemError('EROFS', path.join(path.dirname(dir), 'elsewhere', 'x')), dir)).toBeUndefined();
    expect(dataDirFailure(new Error('migration failed'), dir)).toBeUndefined();
  });
});
