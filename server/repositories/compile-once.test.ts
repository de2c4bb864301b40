import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteDialect } from '../db/pglite-dialect.js';
import { compileOnce, compilePerShape } from './compile-once.js';

interface T {
  t: { id: number; owner: string; v: string };
}

describe('compileOnce', () => {
  let db: Kysely<T>;
  beforeAll(async () => {
    db = new Kysely<T>({ dialect: new PGliteDialect({ pglite: new PGlite() }) });
    await sql`create table t (id int primary key, owner text not null, v text not null)`.execute(db);
    await db
      .insertInto('t')
      .values([
        { id: 1, owner: 'a', v: 'one' },
        { id: 2, owner: 'a', v: 'two' },
        { id: 3, owner: 'b', v: 'three' },
      ])
      .execute();
  });
  afterAll(() => db.destroy());

  it("runs the statement with each call's values, and the builder's own constants", async () => {
    const sut = compileOnce(2, (owner: string, id: number) =>
      db.selectFrom('t').select(['id', 'v']).where('owner', '=', owner).where('id', '=', id).where('v', '!=', 'never'),
    );
    expect((await sut(db, 'a', 2)).rows).toEqual([{ id: 2, v: 'two' }]);
    expect((await sut(db, 'b', 3)).rows).toEqual([{ id: 3, v: 'three' }]);
    expect((await sut(db, 'a', 3)).rows).toEqual([]);
    await db.transaction().execute(async (trx) => expect((await sut(trx, 'a', 1)).rows).toEqual([{ id: 1, v: 'one' }]));
  });

  it('refuses a builder that does not use a parameter as a value', async () => {
    const sut = compileOnce(2, (owner: string, _id: number) => db.selectFrom('t').select('id').where('owner', '=', owner));
    await expect(() => sut(db, 'a', 1)).toThrow('parameter 1 is not used as a value');
  });

  describe('compilePerShape', () => {
    // Shape: how many ids the list holds.
    const build = (shape: string, p: readonly unknown[]) =>
      db
        .selectFrom('t')
        .select('id')
        .where('owner', '=', p[0] as string)
        .where('id', 'in', p.slice(1, 1 + Number(shape)) as number[])
        .orderBy('id');
    const ids = async (run: ReturnType<typeof compilePerShape<{ id: number }>>, owner: string, list: number[]) =>
      (await run(db, String(list.length), [owner, ...list])).rows.map((r) => r.id);

    it('compiles each shape once and runs it with new values', async () => {
      let built = 0;
      const sut = compilePerShape(8, (shape, p) => (built++, build(shape, p)));
      expect(await ids(sut, 'a', [1, 2])).toEqual([1, 2]);
      expect(await ids(sut, 'a', [2, 3])).toEqual([2]);
      expect(await ids(sut, 'b', [3])).toEqual([3]);
      expect(await ids(sut, 'a', [3])).toEqual([]);
      expect(built).toBe(2);
    });

    it('builds shapes beyond its bound for each run, with the same results', async () => {
      let built = 0;
      const sut = compilePerShape(1, (shape, p) => (built++, build(shape, p)));
      expect(await ids(sut, 'a', [1])).toEqual([1]);
      expect(await ids(sut, 'a', [1, 2])).toEqual([1, 2]);
      expect(await ids(sut, 'a', [2, 1])).toEqual([1, 2]);
      expect(await ids(sut, 'a', [2])).toEqual([2]);
      expect(built).toBe(3);
    });
  });
});
