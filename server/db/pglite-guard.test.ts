import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './index.js';
import { guardPglite } from './pglite-guard.js';

const MB = 1024 * 1024;

describe('embedded PGlite guard', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('checkpoints during a bulk write, so the WAL since the last checkpoint stays bounded', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cv-pglite-wal-'));
    dirs.push(dir);
    const { db } = await openDatabase({ dataDir: dir, checkpointEveryMb: 4, checkpointCheckMs: 0 });
    try {
      await sql`create table blobs (k int primary key, v bytea)`.execute(db);
      const lsn = async () =>
        (
          await sql<{ insert: string; redo: string }>`
          select pg_current_wal_insert_lsn()::text as insert, redo_lsn::text as redo from pg_control_checkpoint()`.execute(db)
        ).rows[0]!;
      const start = await lsn();
      // Sealed rows are incompressible: 24 MB of random bytes in 1 MB transactions, upserted over
      // a small key range as day chunks are rewritten (dead tuples and TOAST churn included).
      const perRow = 32 * 1024;
      for (let batch = 0; batch < 24; batch++) {
        await db.transaction().execute(async (trx) => {
          const keys = Array.from({ length: 32 }, (_, i) => (batch * 32 + i) % 400);
          const values = keys.map(() => randomBytes(perRow));
          await sql`insert into blobs select * from unnest(${keys}::int[], ${values}::bytea[])
            on conflict (k) do update set v = excluded.v`.execute(trx);
        });
      }
      const end = await lsn();
      const diff = async (a: string, b: string) =>
        Number((await sql<{ d: string }>`select pg_wal_lsn_diff(${a}::pg_lsn, ${b}::pg_lsn)::text as d`.execute(db)).rows[0]!.d);
      // Without checkpoints PGlite's redo point never moves (no checkpointer in single-user mode).
      expect(await diff(end.insert, start.insert)).toBeGreaterThan(24 * MB);
      expect(await diff(end.redo, start.redo)).toBeGreaterThan(12 * MB);
      // At most one threshold plus one transaction (and its full-page images) past the last checkpoint.
      expect(await diff(end.insert, end.redo)).toBeLessThan(4 * MB + 4 * MB);
      // Old segments are removed or recycled: at most max_wal_size (64 MB) plus the open ones.
      const segments = (await readdir(path.join(dir, 'pg', 'pg_wal'))).filter((f) => /^[0-9A-F]{24}$/.test(f));
      expect(segments.length).toBeLessThanOrEqual(64 / 16 + 2);
      expect((await sql<{ n: string }>`select count(*)::text as n from blobs`.execute(db)).rows[0]!.n).toBe('400');
    } finally {
      await db.destroy();
    }
  });

  it('reports a WebAssembly abort raised inside a query once, and passes the error on', async () => {
    const pglite = new PGlite();
    await pglite.waitReady;
    const fatal: Error[] = [];
    guardPglite(pglite, { checkpointEveryBytes: 64 * MB, checkIntervalMs: 0, onFatal: (err) => fatal.push(err) });
    try {
      // The module's own abort(), raised while PGlite is inside query() (parsing its result),
      // is the `RuntimeError: Aborted()` an exhausted WebAssembly heap throws.
      const abortWhileParsing = { parsers: { 23: () => (pglite as unknown as { mod: { _abort(): never } }).mod._abort() } };
      await expect(pglite.query('select 1::int4', [], abortWhileParsing)).rejects.toThrow(/Aborted/);
      await expect(pglite.query('select 1::int4', [], abortWhileParsing)).rejects.toThrow(/Aborted/);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.name).toBe('RuntimeError');
      // Ordinary SQL errors are not fatal.
      await expect(pglite.query('select * from missing_table')).rejects.toThrow(/missing_table/);
      expect(fatal).toHaveLength(1);
    } finally {
      await pglite.close();
    }
  });
});
