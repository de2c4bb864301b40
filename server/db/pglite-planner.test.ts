import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_CONF } from './index.js';

// The embedded database's planner settings (PGLITE_CONF). A new user's vault is small: with
// PostgreSQL's default random_page_cost (4, for spinning disks), a read by id on a table of a few
// pages planned a sequential scan of every row, which cost PGlite a file-size check in JavaScript
// and a filter over the whole table on every item read.
describe('PGlite planner settings', () => {
  let pglite: PGlite;

  beforeAll(async () => {
    pglite = new PGlite({ postgresqlconf: PGLITE_CONF });
    await pglite.exec(`
      create table items (id uuid primary key, user_id uuid not null, body text not null);
      create index items_user_idx on items (user_id);
      insert into items select gen_random_uuid(), '00000000-0000-4000-8000-000000000001', repeat('x', 200) from generate_series(1, 100);
      analyze items;
      prepare by_id (uuid, uuid) as select id, body from items where user_id = $1 and id = $2;`);
  });
  afterAll(async () => {
    await pglite.close();
  });

  // One person's vault: every row has the same user.
  it('reads a small table by primary key, also once the statement has a generic plan', async () => {
    const { rows } = await pglite.query<{ id: string; user_id: string }>('select id, user_id from items limit 1');
    const args = `'${rows[0]!.user_id}', '${rows[0]!.id}'`;
    expect((await pglite.query<{ relpages: number }>(`select relpages from pg_class where relname = 'items'`)).rows[0]!.relpages).toBeGreaterThan(2);
    // Past five runs PostgreSQL may switch a prepared statement to its generic plan.
    for (let i = 0; i < 6; i++) await pglite.query(`execute by_id(${args})`);
    const plan = (await pglite.query<{ 'QUERY PLAN': string }>(`explain execute by_id(${args})`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan using items_pkey/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});
