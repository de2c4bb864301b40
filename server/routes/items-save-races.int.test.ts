import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

interface Item {
  id: string;
  version: number;
  title: string;
  text: string;
  tags: string[];
  folderId: string | null;
}

// Requests that race each other. PGlite runs one transaction at a time, so these only find the
// races on PostgreSQL (TEST_DATABASE_URL); on PGlite they check the same answers one by one.
describe.each(dbTargets())('saves, folder deletes and token creates at the same time (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  type User = Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const create = async (u: User, body: Record<string, unknown>): Promise<Item> => {
    const r = await inject({ method: 'POST', url: '/api/items', headers: u.headers, payload: body });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as Item;
  };
  const patch = (u: User, id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    inject({ method: 'PATCH', url: `/api/items/${id}`, headers: { ...u.headers, ...headers }, payload: body });
  const get = (u: User, id: string) => inject({ method: 'GET', url: `/api/items/${id}`, headers: u.headers });
  const codes = (rs: Array<{ statusCode: number; body: string }>) =>
    rs.map((r) =>
      r.statusCode === 200 || r.statusCode === 201 ? String(r.statusCode) : `${r.statusCode}/${(JSON.parse(r.body) as { error: { code: string } }).error.code}`,
    );

  it('lands every concurrent save sent without a base version, one after another', async () => {
    const u = await signUp(sut.app);
    const item = await create(u, { title: 'c', text: 't' });
    const saves = await Promise.all(Array.from({ length: 10 }, (_, i) => patch(u, item.id, { title: `w${i}` })));
    expect(codes(saves)).toEqual(saves.map(() => '200'));
    // Each save is a version of its own: ten saves on version 1 end at 11, each answer a different one.
    expect(saves.map((s) => (s.json() as Item).version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const now = (await get(u, item.id)).json() as Item;
    expect(now.version).toBe(11);
    const last = saves.find((s) => (s.json() as Item).version === 11)!.json() as Item;
    expect(now.title).toBe(last.title);
    const versions = (await inject({ method: 'GET', url: `/api/items/${item.id}/versions`, headers: u.headers })).json() as { versions: unknown[] };
    expect(versions.versions).toHaveLength(11);

    // Two saves of different fields at once: both land.
    const both = await Promise.all([patch(u, item.id, { title: 'new title' }), patch(u, item.id, { tags: ['x'] })]);
    expect(codes(both)).toEqual(['200', '200']);
    expect((await get(u, item.id)).json()).toMatchObject({ version: 13, title: 'new title', tags: ['x'] });
  });

  it('merges concurrent non-overlapping edits from one base instead of refusing them as a race', async () => {
    const u = await signUp(sut.app);
    // Ten paragraphs far apart: each edit changes one line of its own.
    const lines = Array.from({ length: 10 }, (_, i) => [`para ${i}`, 'a', 'b', 'c', 'd']).flat();
    const item = await create(u, { title: 'merge', text: lines.join('\n') });
    const edits = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const mine = [...lines];
        mine[i * 5] = `para ${i} edited`;
        return patch(u, item.id, { text: mine.join('\n'), baseVersion: 1, merge: true });
      }),
    );
    expect(codes(edits)).toEqual(edits.map(() => '200'));
    const now = (await get(u, item.id)).json() as Item;
    expect(now.version).toBe(11);
    for (let i = 0; i < 10; i++) expect(now.text).toContain(`para ${i} edited`);
  });

  it('still refuses all but one concurrent save from the same base version, with the current item', async () => {
    const u = await signUp(sut.app);
    const item = await create(u, { title: 'c', text: 't' });
    const saves = await Promise.all(Array.from({ length: 10 }, (_, i) => patch(u, item.id, { title: `w${i}`, baseVersion: 1 })));
    expect(codes(saves).sort()).toEqual(['200', ...Array<string>(9).fill('409/version_conflict')]);
    for (const s of saves.filter((r) => r.statusCode === 409)) expect((s.json() as { current: Item }).current.version).toBe(2);
    expect(((await get(u, item.id)).json() as Item).version).toBe(2);
  });

  it('trashes every item filed while its folder is deleted, or refuses the move', async () => {
    const u = await signUp(sut.app);
    for (let round = 0; round < 5; round++) {
      const folder = (await inject({ method: 'POST', url: '/api/folders', headers: u.headers, payload: { name: `F${round}` } })).json() as { id: string };
      const items = await Promise.all(Array.from({ length: 10 }, (_, i) => create(u, { title: `r${round} i${i}`, text: 'x' })));
      const del = inject({ method: 'DELETE', url: `/api/folders/${folder.id}`, headers: u.headers });
      const moves = await Promise.all(items.map((it) => patch(u, it.id, { folderId: folder.id })));
      expect((await del).statusCode).toBe(204);
      for (const [i, it] of items.entries()) {
        const after = await get(u, it.id);
        if (moves[i]!.statusCode === 200) {
          // Filed before the delete: gone to the trash with the folder.
          expect(after.statusCode, `round ${round} item ${i}`).toBe(404);
        } else {
          // After it: the folder is gone, and the item stays where it was.
          expect(codes([moves[i]!])).toEqual(['404/not_found']);
          expect(after.statusCode).toBe(200);
          expect((after.json() as Item).folderId).toBeNull();
        }
      }
    }
  });

  it('moves items out of a folder being deleted without a deadlock: each moved out, or trashed first', async () => {
    const u = await signUp(sut.app);
    const folder = async (name: string) =>
      (await inject({ method: 'POST', url: '/api/folders', headers: u.headers, payload: { name } })).json() as { id: string };
    for (let round = 0; round < 3; round++) {
      const [from, to] = [await folder(`from ${round}`), await folder(`to ${round}`)];
      const items = await Promise.all(Array.from({ length: 10 }, (_, i) => create(u, { title: `r${round} i${i}`, text: 'x' })));
      for (const it of items) expect((await patch(u, it.id, { folderId: from.id })).statusCode).toBe(200);
      const del = inject({ method: 'DELETE', url: `/api/folders/${from.id}`, headers: u.headers });
      // A move with an edit: the save's row lock and the folder tree lock, in one transaction.
      const moves = await Promise.all(items.map((it, i) => patch(u, it.id, { folderId: to.id, title: `moved ${i}` })));
      expect((await del).statusCode).toBe(204);
      for (const [i, it] of items.entries()) {
        const after = await get(u, it.id);
        if (moves[i]!.statusCode === 200) {
          expect(after.json()).toMatchObject({ folderId: to.id, title: `moved ${i}` });
        } else {
          expect(codes([moves[i]!])).toEqual(['409/item_trashed']);
          expect(after.statusCode).toBe(404);
        }
      }
    }
  });

  it('keeps at most 50 tokens per account when they are created at once', async () => {
    const u = await signUp(sut.app);
    const made = await Promise.all(
      Array.from({ length: 60 }, (_, i) => inject({ method: 'POST', url: '/api/tokens', headers: u.headers, payload: { name: `t${i}`, scopes: ['read'] } })),
    );
    expect(codes(made).sort()).toEqual([...Array<string>(50).fill('201'), ...Array<string>(10).fill('409/too_many_tokens')]);
    const listed = (await inject({ method: 'GET', url: '/api/tokens', headers: u.headers })).json() as { tokens: unknown[] };
    expect(listed.tokens).toHaveLength(50);
  });

  it('refuses an If-Match that disagrees with baseVersion, and a wildcard If-Match', async () => {
    const u = await signUp(sut.app);
    const item = await create(u, { title: 'c', text: 't' });
    expect((await patch(u, item.id, { title: 'v2' })).statusCode).toBe(200);

    const disagree = await patch(u, item.id, { title: 'x', baseVersion: 2 }, { 'if-match': '"1"' });
    expect(codes([disagree])).toEqual(['400/invalid_request']);
    expect(((await get(u, item.id)).json() as Item).title).toBe('v2');
    expect(codes([await patch(u, item.id, { title: 'x' }, { 'if-match': '*' })])).toEqual(['400/invalid_request']);
    expect(((await get(u, item.id)).json() as Item).version).toBe(2);

    // Agreeing ones are fine; a stale pair is the usual 409 with the current item.
    expect((await patch(u, item.id, { title: 'v3', baseVersion: 2 }, { 'if-match': '"2"' })).statusCode).toBe(200);
    expect((await patch(u, item.id, { title: 'v4' }, { 'if-match': '3' })).statusCode).toBe(200);
    const stale = await patch(u, item.id, { title: 'x', baseVersion: 3 }, { 'if-match': '"3"' });
    expect(codes([stale])).toEqual(['409/version_conflict']);
    expect((stale.json() as { current: Item }).current.version).toBe(4);
  });
});
