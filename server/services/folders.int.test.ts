import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { MAX_FOLDER_DEPTH } from './folders.service.js';

interface Folder {
  id: string;
  parentId: string | null;
}

describe.each(dbTargets())('folder depth limit when moving subtrees (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  let named = 0;
  // Sibling names must differ (folder_exists), so each folder gets its own.
  const create = async (h: Record<string, string>, parentId: string | null): Promise<Folder> => {
    const res = await inject({ method: 'POST', url: '/api/folders', headers: h, payload: { name: `f${++named}`, parentId } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Folder;
  };
  /** A chain of `n` nested folders: its top and its bottom. */
  const chain = async (h: Record<string, string>, n: number) => {
    const top = await create(h, null);
    let leaf = top;
    for (let i = 1; i < n; i++) leaf = await create(h, leaf.id);
    return { top: top.id, leaf: leaf.id };
  };
  const move = (h: Record<string, string>, id: string, parentId: string) =>
    inject({ method: 'PATCH', url: `/api/folders/${id}`, headers: h, payload: { parentId } });
  /** Levels from the top to the deepest folder (1 for a top-level folder alone). */
  const deepest = async (h: Record<string, string>) => {
    const { folders } = (await inject({ method: 'GET', url: '/api/folders', headers: h })).json() as { folders: Folder[] };
    const byId = new Map(folders.map((f) => [f.id, f]));
    return Math.max(
      ...folders.map((f) => {
        let n = 0;
        for (let at: Folder | undefined = f; at; at = at.parentId ? byId.get(at.parentId) : undefined) n++;
        return n;
      }),
    );
  };

  it('refuses to move a subtree where its deepest folder would pass the limit, counting the levels below it', async () => {
    const u = await signUp(sut.app);
    const a = await chain(u.headers, 20);
    const b = await chain(u.headers, 20);
    const refused = await move(u.headers, b.top, a.leaf);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.code).toBe('too_deep');
    expect(await deepest(u.headers)).toBe(20);

    // 20 above and 12 moved fills the limit exactly; 13 would pass it.
    expect(20 + 12).toBe(MAX_FOLDER_DEPTH);
    const thirteen = await chain(u.headers, 13);
    expect((await move(u.headers, thirteen.top, a.leaf)).json().error.code).toBe('too_deep');
    const twelve = await chain(u.headers, 12);
    const fits = await move(u.headers, twelve.top, a.leaf);
    expect(fits.statusCode, fits.body).toBe(200);
    expect(await deepest(u.headers)).toBe(MAX_FOLDER_DEPTH);
    // Nothing more fits below it.
    const below = await inject({ method: 'POST', url: '/api/folders', headers: u.headers, payload: { name: 'x', parentId: twelve.leaf } });
    expect(below.json().error.code).toBe('too_deep');
  });

  it('measures a wide subtree by its height, not its size', async () => {
    const u = await signUp(sut.app);
    const deep = await chain(u.headers, MAX_FOLDER_DEPTH - 2);
    // 40 folders, two levels: fits under a folder 30 deep, not under one 31 deep.
    const wide = await create(u.headers, null);
    for (let i = 0; i < 39; i++) await create(u.headers, wide.id);
    const ok = await move(u.headers, wide.id, deep.leaf);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await deepest(u.headers)).toBe(MAX_FOLDER_DEPTH);

    const deeper = await create(u.headers, deep.leaf);
    const refused = await move(u.headers, wide.id, deeper.id);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.code).toBe('too_deep');
  });

  it('two moves at once cannot make a cycle or pass the limit: each checks the tree the other left', async () => {
    const { headers: h } = await signUp(sut.app);
    for (let round = 0; round < 10; round++) {
      const [a, b] = [await create(h, null), await create(h, null)];
      // A into B while B goes into A: on PostgreSQL both checks once passed on the tree as it was.
      const statuses = (await Promise.all([move(h, a.id, b.id), move(h, b.id, a.id)])).map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 400]);
    }
    // Two chains of 16 hung under each other's leaves at once: only one fits in 32 levels.
    const [x, y] = [await chain(h, 16), await chain(h, 16)];
    const both = (await Promise.all([move(h, x.top, y.leaf), move(h, y.top, x.leaf)])).map((r) => r.statusCode).sort();
    expect(both).toEqual([200, 400]);
    expect(await deepest(h)).toBeLessThanOrEqual(MAX_FOLDER_DEPTH);
  });
});

describe.each(dbTargets())('sibling folder names (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  type H = Record<string, string>;
  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  const post = (h: H, name: string, parentId: string | null = null) => inject({ method: 'POST', url: '/api/folders', headers: h, payload: { name, parentId } });
  const create = async (h: H, name: string, parentId: string | null = null): Promise<Folder & { name: string }> => {
    const res = await post(h, name, parentId);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const patch = (h: H, id: string, payload: object) => inject({ method: 'PATCH', url: `/api/folders/${id}`, headers: h, payload });
  const names = async (h: H) =>
    ((await inject({ method: 'GET', url: '/api/folders', headers: h })).json() as { folders: Array<{ name: string; parentId: string | null }> }).folders
      .map((f) => `${f.parentId ?? ''}/${f.name}`)
      .sort();
  const refusedAs = (res: { statusCode: number; body: string; json: () => unknown }, name: string) => {
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'folder_exists', message: `A folder named "${name}" already exists here.` } });
  };

  it('refuses a new folder whose name a sibling has, as the user sees names: trimmed, NFC, any case', async () => {
    const { headers: h } = await signUp(sut.app);
    const root = await create(h, 'Root');
    refusedAs(await post(h, 'Root'), 'Root');
    refusedAs(await post(h, '  root '), 'root');
    refusedAs(await post(h, 'ROOT'), 'ROOT');
    const cafe = await create(h, 'Caf\u00e9', root.id);
    refusedAs(await post(h, 'CAFE\u0301', root.id), 'CAFE\u0301');
    // The same name elsewhere in the tree, or another user's, is no sibling.
    await create(h, 'Root', root.id);
    await create(h, 'Café', cafe.id);
    await create((await signUp(sut.app)).headers, 'Root');
    expect(await names(h)).toEqual([`${cafe.id}/Café`, `${root.id}/Caf\u00e9`, `${root.id}/Root`, '/Root'].sort());
    // The refusal quotes the name to its owner only: never into the server's log.
    await create(h, 'Canary-7f3e');
    refusedAs(await post(h, 'canary-7F3E'), 'canary-7F3E');
    expect(sut.logs().toLowerCase()).not.toContain('canary-7f3e');
  });

  it('refuses a rename or a move onto a sibling name; a folder keeps or re-cases its own', async () => {
    const { headers: h } = await signUp(sut.app);
    const [a, b, parent] = [await create(h, 'A'), await create(h, 'B'), await create(h, 'Parent')];
    const inside = await create(h, 'b', parent.id);
    refusedAs(await patch(h, b.id, { name: 'a' }), 'a');
    refusedAs(await patch(h, b.id, { parentId: parent.id }), 'B');
    refusedAs(await patch(h, a.id, { name: 'B', parentId: parent.id }), 'B');
    refusedAs(await patch(h, inside.id, { parentId: null }), 'b');
    expect(await names(h)).toEqual(['/A', '/B', '/Parent', `${parent.id}/b`].sort());

    for (const name of ['B', ' b ', 'B']) {
      const same = await patch(h, b.id, { name });
      expect(same.statusCode, same.body).toBe(200);
    }
    const moved = await patch(h, b.id, { name: 'B2', parentId: parent.id });
    expect(moved.statusCode, moved.body).toBe(200);
    const back = await patch(h, inside.id, { parentId: null });
    expect(back.statusCode, back.body).toBe(200);
    expect(await names(h)).toEqual(['/A', '/Parent', '/b', `${parent.id}/B2`].sort());
  });

  it('lets only one of several creates of one name in one parent at once succeed (two tabs)', async () => {
    const { headers: h } = await signUp(sut.app);
    const parent = await create(h, 'Tabs');
    for (const parentId of [null, parent.id]) {
      const all = await Promise.all(Array.from({ length: 6 }, (_, i) => post(h, i % 2 ? 'Same' : 'same', parentId)));
      expect(all.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    }
    // A rename and a create racing for one name: one wins.
    const other = await create(h, 'Other');
    const [renamed, created] = await Promise.all([patch(h, other.id, { name: 'Race' }), post(h, 'Race')]);
    expect([renamed.statusCode === 200, created.statusCode === 201].filter(Boolean)).toHaveLength(1);
    expect([renamed.statusCode, created.statusCode]).toContain(409);
    expect((await names(h)).filter((n) => n.toLowerCase().endsWith('/race'))).toHaveLength(1);
  });
});
