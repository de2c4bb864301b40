import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

/**
 * Vault format 2 indexed a run of Han, kana or Hangul as one token, so "血压" never found "高血压".
 * Such a vault is re-indexed by its owner's next unlock (VaultUpgradeService, migration 0030).
 */
describe.each(dbTargets())('a vault indexed before CJK search is re-indexed when its owner comes back (%s)', (target) => {
  let sut: TestServer;

  beforeAll(async () => {
    sut = await startTestServer(target);
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  const raw = async <T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> => {
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  };

  it('finds words inside runs of Chinese and Japanese after the re-index, and leaves other items as they were', async () => {
    const user = await signUp(sut.app);
    const post = async (payload: object) => {
      const r = await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload });
      expect(r.statusCode, r.body).toBe(201);
      return r.json() as { id: string; version: number };
    };
    const zh = await post({ title: '体检记录', text: '医生说我有高血压，需要每天测量。' });
    const ja = await post({ title: 'Checkup', text: 'Blood test', tags: ['健康診断'] });
    const en = await post({ title: 'Evening walk', text: 'Walked to the harbour and back.' });
    const search = async (q: string) => {
      const r = await sut.app.inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent(q)}`, headers: user.headers });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().results as Array<{ item: { id: string; version: number }; snippet: string }>;
    };
    expect((await search('血压')).map((r) => r.item.id)).toEqual([zh.id]);

    // As format 2 left it: the runs' postings gone (no pair of characters was ever indexed).
    await sut.stop();
    await raw(async (db) => {
      await sql`delete from search_terms where item_id in (${zh.id}::uuid, ${ja.id}::uuid)`.execute(db);
      await sql`update users set vault_format = 2`.execute(db);
    });
    await sut.restart();

    const jobs = async () =>
      (await sut.app.inject({ method: 'GET', url: '/api/jobs?limit=100', headers: user.headers })).json().jobs as Array<{
        kind: string;
        status: string;
        progress: { done: number; total?: number };
        result?: { imported: Record<string, number> };
      }>;
    let upgrade: Awaited<ReturnType<typeof jobs>>[number] | undefined;
    for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      upgrade = (await jobs()).find((j) => j.kind === 'vault_upgrade');
      if (upgrade?.status === 'done' || upgrade?.status === 'failed') break;
    }
    expect(upgrade).toMatchObject({ status: 'done', progress: { done: 3, total: 3 }, result: { imported: { 'items re-indexed': 2 } } });

    const found = await search('血压');
    expect(found.map((r) => r.item.id)).toEqual([zh.id]);
    expect(found[0]!.snippet).toBe('医生说我有高**血压**，需要每天测量。');
    expect(found[0]!.item.version).toBe(zh.version); // indexed anew, not a new version
    expect((await search('健康')).map((r) => r.item.id)).toEqual([ja.id]);
    expect((await search('walk')).map((r) => r.item.id)).toEqual([en.id]);

    await sut.stop();
    const formats = await raw(async (db) => (await sql<{ vault_format: number }>`select vault_format from users`.execute(db)).rows.map((r) => r.vault_format));
    expect(formats).toEqual([3]);
    await sut.restart();
  }, 180_000);

  it('starts new accounts at the current format, with nothing to re-index', async () => {
    const user = await signUp(sut.app);
    await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: '笔记', text: '今天血压正常' } });
    const jobs = (await sut.app.inject({ method: 'GET', url: '/api/jobs?limit=100', headers: user.headers })).json().jobs as Array<{ kind: string }>;
    expect(jobs.filter((j) => j.kind === 'vault_upgrade')).toEqual([]);
    const r = await sut.app.inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent('血压')}`, headers: user.headers });
    expect(r.json().results).toHaveLength(1);
  });
});
