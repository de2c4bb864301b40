import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The embedded database (PGlite) is one process's: a second process that opens its directory
 * (a second server, `npm run invite` while the server runs) writes behind the first one's back,
 * its writes are lost at the first one's next checkpoint, and both risk corrupting the files.
 * Whoever opens it first holds `DATA_DIR/pg.lock` (created exclusively, holding its pid and what
 * it is); anyone else is refused with a DataDirLockedError while that pid is alive. A lock whose
 * pid is gone (a crash, `kill -9`) is taken over, and so is one holding this process's own pid
 * that this process did not take (a container restarted with the same pid). Within one process
 * the hold is shared: the CLIs hold it for their whole run and open the database inside it.
 * PostgreSQL (DATABASE_URL) needs none of this.
 */
export const LOCK_FILE = 'pg.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    /** `server`, or the command holding it (`npm run backup`). */
    readonly holder: string,
    advice = 'stop it first (the embedded database allows one process).',
  ) {
    super(`${holderName(holder)} is running on this data directory (${dataDir}, pid ${pid}): ${advice}`);
    this.name = 'DataDirLockedError';
  }

  /** The same line with advice for the command that was refused. */
  withAdvice(advice: string): string {
    return `${holderName(this.holder)} is running on this data directory (${this.dataDir}, pid ${this.pid}): ${advice}`;
  }
}

const holderName = (holder: string) => (holder === 'server' ? 'The server' : `\`${holder}\``);

export interface DataDirLock {
  readonly file: string;
  /** Gives the hold back (the file goes once every hold of this process is given back); idempotent. */
  release(): void;
}

interface Held {
  count: number;
  content: string;
}
const held = new Map<string, Held>();
let exitHook = false;

/** Takes (or shares, within this process) the exclusive hold of `dataDir`'s embedded database. */
export function lockDataDir(dataDir: string, holder = 'server'): DataDirLock {
  const dir = path.resolve(dataDir);
  const file = path.join(dir, LOCK_FILE);
  let mine = held.get(file);
  if (mine) mine.count++;
  else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mine = { count: 1, content: acquire(dir, file, holder) };
    held.set(file, mine);
    if (!exitHook) {
      exitHook = true;
      // process.exit() (a dead database, a second Ctrl-C) skips the close that would release it.
      process.once('exit', () => {
        for (const [f, h] of held) removeIfOurs(f, h.content);
        held.clear();
      });
    }
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      const h = held.get(file);
      if (!h || --h.count > 0) return;
      held.delete(file);
      removeIfOurs(file, h.content);
    },
  };
}

function acquire(dir: string, file: string, holder: string): string {
  const content = `${process.pid}\n${holder}\n${new Date().toISOString()}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
      return content;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw err;
    }
    const seen = readText(file);
    if (seen === undefined) continue; // gone meanwhile: try again
    const owner = parse(seen);
    if (!owner && attempt < 5) {
      // Created but not yet written by a process starting right now.
      sleep(50);
      continue;
    }
    if (owner && owner.pid !== process.pid && alive(owner.pid)) throw new DataDirLockedError(dir, owner.pid, owner.holder);
    // Stale. Moved aside (atomic) rather than deleted, so a lock that another process took
    // over in the meantime is noticed and put back instead of being lost.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (readText(aside) !== seen) {
      try {
        renameSync(aside, file);
      } catch {
        // Nothing to restore.
      }
      continue;
    }
    unlinkSync(aside);
  }
}

function parse(text: string): { pid: number; holder: string } | undefined {
  const [pidLine, holder] = text.split('\n');
  const pid = Number(pidLine?.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, holder: holder?.trim() || 'server' } : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists and belongs to another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function removeIfOurs(file: string, content: string): void {
  try {
    if (readText(file) === content) unlinkSync(file);
  } catch {
    // Already gone, or its directory was removed: nothing is held.
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
