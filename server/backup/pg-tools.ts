import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * `pg_dump` and `pg_restore` with the password in the environment (PGPASSWORD), never in argv,
 * where any local user could read it with `ps`.
 */
function connection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

/** A custom-format dump of the database, taken in one snapshot (pg_dump's own transaction). */
export function pgDump(url: string): { stdout: Readable; done: Promise<void> } {
  const { dbname, env } = connection(url);
  const child = spawn('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--dbname=${dbname}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: child.stdout, done: exited(child, 'pg_dump') };
}

/** Loads a custom-format dump from stdin into an empty database in one transaction: an error leaves nothing behind. */
export function pgRestore(url: string): { stdin: Writable; done: Promise<void> } {
  const { dbname, env } = connection(url);
  const child = spawn('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${dbname}`], {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  return { stdin: child.stdin, done: exited(child, 'pg_restore') };
}

function exited(child: ReturnType<typeof spawn>, name: string): Promise<void> {
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 4000) stderr += c.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'ENOENT' ? `${name} is not installed (the postgresql-client package)` : `${name} could not start`)),
    );
    child.once('close', (code) => {
      // Its messages name tables and settings, not row contents; the URL's password is not in argv.
      if (code === 0) resolve();
      else reject(new Error(`${name} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
