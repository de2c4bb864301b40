import { readFile } from 'node:fs/promises';
import pg from 'pg';

/**
 * CPU time (user + system, ms) used so far by the PostgreSQL backends connected to the database
 * of `url`, read from /proc: the database's share of a request, which the server's own CPU
 * figure leaves out. Only meaningful when PostgreSQL runs on this machine (Linux); elsewhere, and
 * for backends that exit between two readings, it counts nothing.
 */
export function pgBackendCpu(url: string): () => Promise<number> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  const tick = 10; // ms per clock tick (USER_HZ is 100 on Linux)
  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      let ms = 0;
      for (const { pid } of rows) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
        // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
        const fields = stat?.slice(stat.lastIndexOf(') ') + 2).split(' ');
        if (fields) ms += (Number(fields[11]) + Number(fields[12])) * tick;
      }
      return ms;
    } finally {
      await client.end();
    }
  };
}
