import { PGlite, protocol } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindMessage } from './pglite-wire.js';
import { PGliteStatements } from './pglite-query.js';

describe('bindMessage', () => {
  it('writes the bytes PGlite writes for the same Bind', () => {
    const values = ['plain', 'ünïcödé 🙂 and a lone \ud800', null, Buffer.from([0, 1, 254, 255]), '', Buffer.alloc(0)];
    for (const statement of ['', 'cv_0', 'cv_123']) {
      expect(bindMessage(statement, values)).toEqual(Buffer.from(protocol.serialize.bind({ statement, values })));
    }
    expect(bindMessage('cv_1', [])).toEqual(Buffer.from(protocol.serialize.bind({ statement: 'cv_1', values: [] })));
  });
});

// The reply reader on a real PGlite: what PGlite's own query gives, row for row and error for error.
describe('readReply through PGliteStatements', () => {
  let pglite: PGlite;
  let sut: PGliteStatements;
  beforeAll(async () => {
    pglite = new PGlite();
    sut = new PGliteStatements(pglite);
    await pglite.exec(`create table r (id int primary key, name text not null, b bytea, n numeric, at timestamptz, flags bool[], j json,
      constraint name_short check (length(name) < 20))`);
    await pglite.query(
      `insert into r values (1, 'ä "quoted"', '\\x00ff', 1.5, '2024-01-02T03:04:05Z', '{t,f}', '{"a":[1]}'), (2, 'two', null, null, null, null, null)`,
    );
  });
  afterAll(() => pglite.close());

  it('gives the rows PGlite gives, on the first round and on a prepared one', async () => {
    const sql = 'select *, id * 2 as twice, null::text as nothing from r where id = any($1) order by id';
    const expected = (await pglite.query(sql, [[1, 2]])).rows;
    for (let i = 0; i < 3; i++) expect((await sut.query(sql, [[1, 2]], false)).rows).toEqual(expected);
  });

  it("throws PGlite's own DatabaseError, with every field", async () => {
    const bad = 'insert into r (id, name) values ($1, $2)';
    const theirs = await pglite.query(bad, [3, 'x'.repeat(30)]).catch((e: unknown) => e);
    const ours = await sut.query(bad, [3, 'x'.repeat(30)], false).catch((e: unknown) => e);
    expect(ours).toBeInstanceOf(Error);
    expect(ours).toMatchObject({ code: '23514', constraint: 'name_short', table: 'r', message: (theirs as Error).message });
  });
});
