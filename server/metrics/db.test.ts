import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { QueryObserver, queryFamily } from './db.js';
import { Metrics } from './registry.js';
import { parseProm, sample } from '../../test-support/server/prom.js';

describe('query families and the query observer (embedded PGlite)', () => {
  let db: Database;
  let metrics: Metrics;
  let sut: QueryObserver;
  let poolStats: () => { size: number; inUse: number; waiting: number };

  beforeAll(async () => {
    metrics = new Metrics({ defaultMetrics: false });
    sut = new QueryObserver(metrics);
    ({ db, poolStats } = await openDatabase({ log: sut.log }));
    sut.observePool(poolStats, metrics);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('names a query by verb and table, never by its values', () => {
    const secret = 'secretvalue@example.com';
    expect(
      queryFamily(
        db
          .selectFrom('users')
          .select('id')
          .where('email_mac' as never, '=', secret as never)
          .toOperationNode(),
      ),
    ).toBe('select users');
    expect(queryFamily(db.selectFrom('vault_items as v').selectAll().toOperationNode())).toBe('select vault_items');
    expect(queryFamily(db.insertInto('audit_log').values({ action: 'login', user_id: null, request_id: secret }).toOperationNode())).toBe('insert audit_log');
    expect(queryFamily(db.updateTable('jobs').set({ status: 'done' }).toOperationNode())).toBe('update jobs');
    expect(queryFamily(db.deleteFrom('sessions').toOperationNode())).toBe('delete sessions');
    expect(queryFamily(sql`with x as (insert into search_terms (token) values (${secret})) select 1`.toOperationNode())).toBe('insert search_terms');
    expect(queryFamily(sql`select pg_database_size(current_database())`.toOperationNode())).toBe('select');
    expect(queryFamily(sql`${sql.raw('not sql at all')}`.toOperationNode())).toBe('raw');
  });

  it('times successful and failed queries by family and shows the one connection as a pool of one', async () => {
    await db.selectFrom('users').select('id').execute();
    await expect(sql`select * from no_such_table where x = ${'canary'}`.execute(db)).rejects.toThrow();
    const text = await metrics.registry.metrics();
    const samples = parseProm(text);
    expect(sample(samples, 'cv_db_query_duration_seconds_count', { family: 'select users' })).toBe(1);
    expect(sample(samples, 'cv_db_query_errors_total', { family: 'select users' })).toBe(0);
    expect(sample(samples, 'cv_db_query_errors_total', { family: 'select no_such_table' })).toBe(1);
    expect(sample(samples, 'cv_db_pool_size')).toBe(1);
    expect(sample(samples, 'cv_db_pool_in_use')).toBe(0);
    expect(text).not.toContain('canary');
  });

  it('counts a query queued behind a transaction as waiting', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const trx = db.transaction().execute(async (t) => {
      await sql`select 1`.execute(t);
      await held;
    });
    const until = async (ok: () => boolean) => {
      while (!ok()) await new Promise((r) => setImmediate(r));
    };
    await until(() => poolStats().inUse === 1);
    const queued = db.selectFrom('users').select('id').execute();
    await until(() => poolStats().waiting === 1);
    expect(poolStats()).toEqual({ size: 1, inUse: 1, waiting: 1 });
    release();
    await Promise.all([trx, queued]);
    expect(poolStats()).toEqual({ size: 1, inUse: 0, waiting: 0 });
  });
});
