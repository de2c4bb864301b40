import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

const MODULE = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'data-dir-lock.ts');

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('lockDataDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = () => path.join(dir, 'pg.lock');

  it('holds DATA_DIR/pg.lock with this pid, shared within the process, gone once every hold is given back', () => {
    const a = lockDataDir(dir, 'npm run invite');
    expect(readFileSync(file(), 'utf8').split('\n').slice(0, 2)).toEqual([String(process.pid), 'npm run invite']);
    const b = lockDataDir(dir);
    a.release();
    a.release();
    expect(existsSync(file())).toBe(true);
    b.release();
    expect(existsSync(file())).toBe(false);
  });

  it('refuses while the holding process is alive, naming it and its pid', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(file(), `${holder.pid}\nserver\n2026-01-01T00:00:00.000Z\n`);
      let err: unknown;
      try {
        lockDataDir(dir, 'npm run invite');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as DataDirLockedError).pid).toBe(holder.pid);
      expect((err as Error).message).toBe(
        `The server is running on this data directory (${dir}, pid ${holder.pid}): stop it first (the embedded database allows one process).`,
      );
      expect((err as DataDirLockedError).withAdvice('or else.')).toBe(`The server is running on this data directory (${dir}, pid ${holder.pid}): or else.`);
      writeFileSync(file(), `${holder.pid}\nnpm run backup\n`);
      expect(() => lockDataDir(dir)).toThrow(`\`npm run backup\` is running on this data directory (${dir}, pid ${holder.pid})`);
      // The refused attempt left the holder's file as it was.
      expect(readFileSync(file(), 'utf8')).toBe(`${holder.pid}\nnpm run backup\n`);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit').catch(() => {});
    }
  });

  it('takes over a lock whose process is gone, and one naming this pid that this process never took', () => {
    for (const stale of [`${deadPid()}\nserver\n`, `${process.pid}\nserver\n`, '', 'garbage\n']) {
      writeFileSync(file(), stale);
      const lock = lockDataDir(dir, 'npm run invite');
      expect(readFileSync(file(), 'utf8').split('\n')[0]).toBe(String(process.pid));
      lock.release();
      expect(existsSync(file())).toBe(false);
    }
    // Nothing moved aside is left behind.
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is given back when the process exits without closing, and left behind by kill -9 for the next one to take over', async () => {
    const code = `const { lockDataDir } = await import(${JSON.stringify(MODULE)}); lockDataDir(${JSON.stringify(dir)});`;
    const exits = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${code} process.exit(0);`]);
    expect(exits.status, exits.stderr.toString()).toBe(0);
    expect(existsSync(file())).toBe(false);

    const killed = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${code} console.log('held'); setInterval(() => {}, 1000);`]);
    await once(killed.stdout, 'data');
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    const exited = once(killed, 'exit');
    killed.kill('SIGKILL');
    await exited;
    expect(readFileSync(file(), 'utf8').split('\n')[0]).toBe(String(killed.pid));
    const lock = lockDataDir(dir);
    expect(readFileSync(file(), 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });
});
