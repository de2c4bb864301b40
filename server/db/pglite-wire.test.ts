import { PGlite, protocol } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGLITE_PARSERS } from './index.js';
import { bindMessage, resultFormats } from './pglite-wire.js';
import { PGliteStatements } from './pglite-query.js';

describe('bindMessage', () => {
  it('writes the bytes PGlite writes for the same Bind', () => {
    const values = ['plain', 'ünïcödé 🙂 and a lone \ud800', null, Buffer.from([0, 1, 254, 255]), '', Buffer.alloc(0)];
    for (const statement of ['', 'cv_0', 'cv_123']) {
      expect(bindMessage(statement, values)).toEqual(Buffer.from(protocol.serialize.bind({ statement, values })));
    }
    expect(bindMessage('cv_1', [])).toEqual(Buffer.from(protocol.serialize.bind({ statement: 'cv_1', values: [] })));
  });

  it('asks for the result formats it is given, one code per column', () => {
    const values = ['v', Buffer.from([1, 2])];
    const plain = bindMessage('cv_2', values);
    const withFormats = bindMessage('cv_2', values, [0, 1, 0]);
    // The same message up to the result format count, which is 3 codes instead of none.
    expect(withFormats.subarray(5, plain.length - 2)).toEqual(plain.subarray(5, plain.length - 2));
    expect([...withFormats.subarray(plain.length - 2)]).toEqual([0, 3, 0, 0, 0, 1, 0, 0]);
    expect(withFormats.readInt32BE(1)).toBe(withFormats.length - 1);
  });

  it('reads only bytea columns as binary, and nothing when there is none', () => {
    const field = (dataTypeID: number) => ({ name: String(dataTypeID), dataTypeID, parse: undefined });
    expect(resultFormats([field(25), field(17), field(23), field(17)])).toEqual([0, 1, 0, 1]);
    expect(resultFormats([field(25), field(1001)])).toBeUndefined();
    expect(resultFormats(undefined)).toBeUndefined();
  });
});

// The reply reader on a real PGlite: what PGlite's own query gives, row for row and error for error.
describe('readReply through PGliteStatements', () => {
  let pglite: PGlite;
  let sut: PGliteStatements;
  beforeAll(async () => {
    // The server's parsers: prepared rounds read bytea as binary, and must give what its text parser gives.
    pglite = new PGlite({ parsers: PGLITE_PARSERS });
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

  it('gives bytea of any length, null and empty among other columns, the same on every round', async () => {
    const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256));
    await pglite.query('insert into r (id, name, b) values ($1, $2, $3), ($4, $5, $6)', [10, 'big', big, 11, 'empty', Buffer.alloc(0)]);
    const sql = "select b, name, b as again, null::bytea as none, '\\x00'::bytea as one from r where id >= $1 order by id";
    const expected = (await pglite.query(sql, [10])).rows;
    expect((expected[0] as { b: Buffer }).b.equals(big)).toBe(true);
    for (let i = 0; i < 3; i++) expect((await sut.query(sql, [10], false)).rows).toEqual(expected);
  });

  it('reads binary rows itself when the reply holds a message it does not know', async () => {
    // A notification to a channel this session listens on comes back within the statement's
    // reply; the fast reader hands other such replies to PGlite's parser, which reads every column as text.
    await pglite.exec('listen wire_test');
    const sql = "select b, name, pg_notify('wire_test', $1) as sent from r where id = 1";
    const expected = (await pglite.query(sql, ['first'])).rows;
    for (let i = 0; i < 3; i++) expect((await sut.query(sql, [`round ${i}`], false)).rows).toEqual(expected);
    await pglite.exec('unlisten wire_test');
  });

  it("throws PGlite's own DatabaseError, with every field", async () => {
    const bad = 'insert into r (id, name) values ($1, $2)';
    const theirs = await pglite.query(bad, [3, 'x'.repeat(30)]).catch((e: unknown) => e);
    const ours = await sut.query(bad, [3, 'x'.repeat(30)], false).catch((e: unknown) => e);
    expect(ours).toBeInstanceOf(Error);
    expect(ours).toMatchObject({ code: '23514', constraint: 'name_short', table: 'r', message: (theirs as Error).message });
  });
});
