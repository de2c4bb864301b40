import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { namedStatementClient, StatementNames } from './pg-named-statements.js';

describe('StatementNames', () => {
  it('names a text from its third run on, and keeps that name', () => {
    const names = new StatementNames();
    expect(names.nameFor('select 1')).toBeUndefined();
    expect(names.nameFor('select 1')).toBeUndefined();
    const name = names.nameFor('select 1');
    expect(name).toMatch(/^cv_\d+$/);
    expect(names.nameFor('select 1')).toBe(name);
    for (let i = 0; i < 3; i++) names.nameFor('select 2');
    expect(names.nameFor('select 2')).not.toBe(name);
  });

  it('stops naming new texts once 256 have names, and still answers for those it named', () => {
    const names = new StatementNames();
    const named = new Set<string>();
    for (let t = 0; t < 300; t++) for (let i = 0; i < 3; i++) named.add(names.nameFor(`select ${t}`) ?? '');
    named.delete('');
    expect(named.size).toBe(256);
    expect(names.nameFor('select 0')).toBe('cv_0');
    expect(names.nameFor('select 299')).toBeUndefined();
  });
});

describe.runIf(dbTargets().includes('postgres'))('namedStatementClient on PostgreSQL', () => {
  it('runs hot statements prepared, on every pooled connection, with the right results and errors', async () => {
    const { url, dispose } = await createPgDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 3, Client: namedStatementClient(new StatementNames()) });
    try {
      const text = 'select $1::int + 1 as n';
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.query(text, [i])));
      expect(answers.map((r) => (r.rows[0] as { n: number }).n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const prepared = await pool.query<{ n: string }>('select count(*) as n from pg_prepared_statements where statement = $1', [text]);
      // The connection that ran the count has the statement prepared under its name.
      expect(Number(prepared.rows[0]!.n)).toBe(1);
      // A hot statement whose parse fails keeps failing with the database's error, not a missing name.
      for (let i = 0; i < 4; i++) await expect(pool.query('select no_such_column from pg_class where oid = $1', [1])).rejects.toThrow(/no_such_column/);
    } finally {
      await pool.end();
      await dispose();
    }
  });

  it('runs a text unnamed once another session changed the columns it selects (0A000), with the new columns', async () => {
    const { url, dispose } = await createPgDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1, Client: namedStatementClient(new StatementNames()) });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('create table t (id int primary key)');
      await other.query('insert into t values (1)');
      const text = 'select * from t where id = $1';
      for (let i = 0; i < 4; i++) expect((await pool.query(text, [1])).rows).toEqual([{ id: 1 }]);
      // What a second instance's migration does while this one runs.
      await other.query('alter table t add column note text');
      expect((await pool.query(text, [1])).rows).toEqual([{ id: 1, note: null }]);
      expect((await pool.query(text, [1])).rows).toEqual([{ id: 1, note: null }]);
      // Texts named afterwards get names of their own, not the stale one's.
      for (let i = 0; i < 3; i++) expect((await pool.query('select $1::int as n', [i])).rows).toEqual([{ n: i }]);
      for (let i = 0; i < 3; i++) expect((await pool.query('select $1::text as s', [String(i)])).rows).toEqual([{ s: String(i) }]);
    } finally {
      await other.end();
      await pool.end();
      await dispose();
    }
  });
});
