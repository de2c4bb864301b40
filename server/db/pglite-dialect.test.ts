import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { AbortedTransactionError, Kysely, sql } from 'kysely';
import { PGliteDialect } from './pglite-dialect.js';

interface T {
  t: { id: number; v: string };
}

// Our carry-over of kysely 0.29's PGlite dialect, on a real in-memory PGlite.
describe('PGliteDialect', () => {
  let db: Kysely<T>;
  let pglite: PGlite;

  beforeEach(async () => {
    pglite = new PGlite();
    db = new Kysely<T>({ dialect: new PGliteDialect({ pglite }) });
    await db.schema
      .createTable('t')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('v', 'text')
      .execute();
  });
  afterEach(async () => {
    await db.destroy();
  });

  const values = async () => (await db.selectFrom('t').select('v').orderBy('id').execute()).map((r) => r.v);

  it('runs queries and reports affected rows', async () => {
    const res = await db
      .insertInto('t')
      .values([
        { id: 1, v: 'a' },
        { id: 2, v: 'b' },
      ])
      .executeTakeFirst();
    expect(res.numInsertedOrUpdatedRows).toBe(2n);
    const upd = await db.updateTable('t').set({ v: 'c' }).where('id', '=', 2).executeTakeFirst();
    expect(upd.numUpdatedRows).toBe(1n);
    expect(await values()).toEqual(['a', 'c']);
  });

  it('commits a transaction and rolls one back when its callback throws', async () => {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('t').values({ id: 1, v: 'kept' }).execute();
    });
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('t').values({ id: 2, v: 'lost' }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await values()).toEqual(['kept']);
  });

  it('keeps a concurrent query out of an open transaction', async () => {
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const tx = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 1, v: 'tx' }).execute();
      inside();
      await held;
      throw new Error('roll back');
    });
    await entered;
    // Issued while the transaction is open: it must wait, not run (and be rolled back) inside it.
    const outside = db.insertInto('t').values({ id: 2, v: 'outside' }).execute();
    finish();
    await expect(tx).rejects.toThrow('roll back');
    await outside;
    expect(await values()).toEqual(['outside']);
  });

  it('reports a transaction that PostgreSQL aborted as AbortedTransactionError', async () => {
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('t').values({ id: 1, v: 'a' }).execute();
        // Swallowing the failure leaves the transaction aborted; COMMIT then rolls back.
        await sql`select 1/0`.execute(tx).catch(() => {});
      }),
    ).rejects.toBeInstanceOf(AbortedTransactionError);
    expect(await values()).toEqual([]);
    // The connection is usable afterwards.
    await db.insertInto('t').values({ id: 3, v: 'after' }).execute();
    expect(await values()).toEqual(['after']);
  });

  it('supports savepoints inside a controlled transaction', async () => {
    const trx = await db.startTransaction().execute();
    await trx.insertInto('t').values({ id: 1, v: 'one' }).execute();
    const sp = await trx.savepoint('before "two"').execute();
    await sp.insertInto('t').values({ id: 2, v: 'two' }).execute();
    const back = await sp.rollbackToSavepoint('before "two"').execute();
    await back.releaseSavepoint('before "two"').execute();
    await trx.commit().execute();
    expect(await values()).toEqual(['one']);
  });

  it('closes the PGlite instance on destroy', async () => {
    await db.destroy();
    expect(pglite.closed).toBe(true);
  });
});
