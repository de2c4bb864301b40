import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely, type LogEvent } from 'kysely';
import { compileOnce } from '../repositories/compile-once.js';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { openDatabase, type Database } from './index.js';

// Point reads outside transactions skip Kysely's executor (point-reads.ts): on PGlite they run
// synchronously when the instance is free, on PostgreSQL over the pipelined connection. What
// must hold either way: the same rows, the same errors, every read logged (metrics and spans),
// and a transaction's writes invisible until it commits.
describe.each(dbTargets())('point reads outside Kysely’s executor (%s)', (target) => {
  let db: Database;
  let dispose = async () => {};
  const events: LogEvent[] = [];
  type Row = { id: number; v: string };
  type Table = { t: Row & { u: string | null } };
  let byId: ReturnType<typeof compileOnce<[number], Row>>;
  const typed = () => db as unknown as Kysely<Table>;

  beforeAll(async () => {
    const made = target === 'postgres' ? await createPgDatabase() : undefined;
    if (made) dispose = made.dispose;
    db = (await openDatabase({ url: made?.url, poolMax: 2, log: (e) => events.push(e) })).db;
    await sql`create table t (id int primary key, v text not null, u uuid)`.execute(db);
    await sql`insert into t select g, 'v' || g from generate_series(1, 50) g`.execute(db);
    byId = compileOnce(1, (id: number) => typed().selectFrom('t').select(['id', 'v']).where('id', '=', id), { pointRead: true });
  });

  afterAll(async () => {
    await db.destroy();
    await dispose();
  });

  it('answers concurrent reads each with its own row, and logs each as a query', async () => {
    events.length = 0;
    const rows = await Promise.all(Array.from({ length: 50 }, (_, i) => byId(db, i + 1)));
    expect(rows.map((r) => r.rows[0]?.v)).toEqual(Array.from({ length: 50 }, (_, i) => `v${i + 1}`));
    expect((await byId(db, 999)).rows).toEqual([]);
    const reads = events.filter((e) => e.query.sql.includes('"t"'));
    expect(reads).toHaveLength(51);
    expect(reads.every((e) => e.level === 'query' && e.queryDurationMillis >= 0)).toBe(true);
  });

  it('answers at once when the instance is free (PGlite: within two microtasks, no queue)', async () => {
    if (target === 'postgres') {
      expect((await byId(db, 5)).rows).toEqual([{ id: 5, v: 'v5' }]);
      return;
    }
    let answered = false;
    const read = byId(db, 5).then(() => (answered = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toBe(true);
    await read;
  });

  it('rejects with the database error, and logs it as an error', async () => {
    events.length = 0;
    const byUuid = compileOnce(1, (u: string) => typed().selectFrom('t').select(['id', 'v']).where('u', '=', u), { pointRead: true });
    await expect(byUuid(db, 'not a uuid')).rejects.toMatchObject({ code: '22P02' });
    expect(events.map((e) => e.level)).toEqual(['error']);
    // The statement is usable again afterwards.
    expect((await byId(db, 3)).rows).toEqual([{ id: 3, v: 'v3' }]);
  });

  it("never shows a transaction's writes before it commits, nor runs inside it", async () => {
    let inside!: () => void;
    const holding = new Promise<void>((r) => (inside = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const tx = db.transaction().execute(async (trx) => {
      await sql`update t set v = 'changed' where id = 7`.execute(trx);
      expect((await byId(trx, 7)).rows[0]?.v).toBe('changed');
      inside();
      await released;
      await sql`update t set v = 'v7' where id = 7`.execute(trx);
    });
    await holding;
    // On PGlite this read waits for the one connection; on PostgreSQL it runs beside the
    // transaction. Neither sees 'changed'.
    const outside = byId(db, 7);
    setTimeout(release, 50);
    expect((await outside).rows[0]?.v).toBe('v7');
    await tx;
  });
});
