import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { compileOnce, type QueryRunner } from '../repositories/compile-once.js';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { openDatabase, type Database } from './index.js';

describe.runIf(dbTargets().includes('postgres'))('point reads on PostgreSQL', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  type Row = { id: number; v: string; pid: number };
  let byId: ReturnType<typeof compileOnce<[number], Row>>;
  const read = (id: number, runner: QueryRunner = db): Promise<Row | undefined> => byId(runner, id).then((r) => r.rows[0]);

  beforeAll(async () => {
    const made = await createPgDatabase();
    dispose = made.dispose;
    db = (await openDatabase({ url: made.url, poolMax: 2 })).db;
    await sql`create table t (id int primary key, v text not null)`.execute(db);
    await sql`insert into t select g, 'v' || g from generate_series(1, 100) g`.execute(db);
    const t = db as unknown as Kysely<{ t: { id: number; v: string } }>;
    byId = compileOnce(
      1,
      (id: number) =>
        t
          .selectFrom('t')
          .select(['id', 'v', sql<number>`pg_backend_pid()`.as('pid')])
          .where('id', '=', id),
      { pointRead: true },
    );
  });

  afterAll(async () => {
    await db.destroy();
    await dispose();
  });

  it('answers concurrent point reads each with its own row, over one connection beside the pool', async () => {
    const rows = await Promise.all(Array.from({ length: 100 }, (_, i) => read(i + 1)));
    expect(rows.map((r) => r?.v)).toEqual(Array.from({ length: 100 }, (_, i) => `v${i + 1}`));
    expect(new Set(rows.map((r) => r?.pid)).size).toBe(1);
    const pooled = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    expect(pooled.rows[0]!.pid).not.toBe(rows[0]!.pid);
    expect(await read(1000)).toBeUndefined();
  });

  it('runs a point read inside a transaction on the transaction, which sees its own writes', async () => {
    await db.transaction().execute(async (trx) => {
      await sql`update t set v = 'changed' where id = 7`.execute(trx);
      expect((await read(7, trx))?.v).toBe('changed');
      expect((await read(7))?.v).toBe('v7');
      await sql`update t set v = 'v7' where id = 7`.execute(trx);
    });
  });

  it('opens a new connection for the next read when its connection was terminated', async () => {
    const { pid } = (await read(1))!;
    await sql`select pg_terminate_backend(${pid})`.execute(db);
    await new Promise((r) => setTimeout(r, 200));
    const again = await read(2);
    expect(again?.v).toBe('v2');
    expect(again?.pid).not.toBe(pid);
  });
});
