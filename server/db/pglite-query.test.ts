import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { PGliteStatements } from './pglite-query.js';

// Statements through PGlite in one round each, kept prepared, on a real in-memory PGlite.
describe('PGliteStatements', () => {
  let pglite: PGlite;
  let statements: PGliteStatements;
  const prepared = async () => (await pglite.query<{ name: string }>('select name from pg_prepared_statements order by name')).rows.map((r) => r.name);

  beforeEach(async () => {
    pglite = new PGlite();
    statements = new PGliteStatements(pglite);
    await pglite.exec('create table t (id int primary key, v text, b bytea, at timestamptz, j jsonb)');
  });
  afterEach(async () => {
    await pglite.close();
  });

  it('binds parameters as node-postgres prepares them and parses rows with the instance parsers', async () => {
    const at = new Date('2024-03-01T12:34:56.789Z');
    const ins = await statements.query(
      'insert into t (id, v, b, at, j) values ($1, $2, $3, $4, $5), ($6, $7, null, null, null)',
      [1, 'a', new Uint8Array([0, 255, 7]), at, { k: [1, 2] }, 2, null],
      false,
    );
    expect(ins.affectedRows).toBe(2);
    const { rows } = await statements.query<{ id: number; v: string | null; b: Uint8Array | null; at: Date | null; j: unknown }>(
      'select * from t where id = any($1) order by id',
      [[1, 2]],
      false,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]!.v).toBe('a');
    expect([...rows[0]!.b!]).toEqual([0, 255, 7]);
    expect(rows[0]!.at!.toISOString()).toBe(at.toISOString());
    expect(rows[0]!.j).toEqual({ k: [1, 2] });
    expect(rows[1]).toEqual({ id: 2, v: null, b: null, at: null, j: null });
  });

  it('prepares a statement once and reuses it', async () => {
    for (let i = 1; i <= 3; i++) await statements.query('insert into t (id, v) values ($1, $2)', [i, `v${i}`], false);
    const { rows } = await statements.query<{ n: number }>('select count(*)::int as n from t', [], false);
    expect(rows[0]!.n).toBe(3);
    expect(statements.size).toBe(2);
    expect(await prepared()).toHaveLength(2);
  });

  it('keeps at most 256 statements prepared, closing the least recently used', async () => {
    for (let i = 0; i < 300; i++) await statements.query(`select ${i}::int as n, $1::text as v`, ['x'], false);
    // The last evictions are closed with the next round.
    await statements.query('select 1 as one', [], false);
    expect(statements.size).toBe(256);
    expect((await prepared()).length).toBeLessThanOrEqual(257);
  });

  it('reports a failed statement with its code and runs it again afterwards', async () => {
    await statements.query('insert into t (id, v) values ($1, $2)', [1, 'a'], false);
    await expect(statements.query('insert into t (id, v) values ($1, $2)', [1, 'again'], false)).rejects.toMatchObject({ code: '23505' });
    await expect(statements.query('select nope from t', [], false)).rejects.toMatchObject({ code: '42703' });
    const ok = await statements.query('insert into t (id, v) values ($1, $2)', [2, 'b'], false);
    expect(ok.affectedRows).toBe(1);
    expect(await prepared()).toHaveLength(1);
  });

  it('parses a statement again when a schema change altered its result', async () => {
    await statements.query('insert into t (id, v) values ($1, $2)', [1, 'a'], false);
    expect((await statements.query('select * from t', [], false)).rows[0]).toMatchObject({ id: 1, v: 'a' });
    await pglite.exec('alter table t add column extra text');
    expect((await statements.query('select * from t', [], false)).rows[0]).toMatchObject({ id: 1, v: 'a', extra: null });
  });
});
