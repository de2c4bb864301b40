import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

/**
 * A UUID is the same id in either case: PostgreSQL finds the row for `ABC…` as for `abc…`. Sealed
 * rows bind their id in the encryption's associated data, so a write that sealed the id as typed
 * made the row unreadable for every later (lowercase) read. Every id the API takes is read in
 * lowercase.
 */
describe.each(dbTargets())('ids sent in uppercase (%s)', (target) => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  const app = () => server.app;
  const json = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: unknown) =>
    app().inject({
      method,
      url,
      headers: { ...user.headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    server = await startTestServer(target);
    user = await signUp(app());
  });
  afterAll(() => server?.dispose());

  it('edits, restores, renames and moves through uppercase ids, and everything still reads back', async () => {
    const folder = (await json('POST', '/api/folders', { name: 'Letters' })).json() as { id: string };
    const other = (await json('POST', '/api/folders', { name: 'Old' })).json() as { id: string };
    const item = (await json('POST', '/api/items', { title: 'Tetanus booster', text: 'first' })).json() as { id: string };
    const ID = item.id.toUpperCase();

    const edit = await json('PATCH', `/api/items/${ID}`, { text: 'second', folderId: folder.id.toUpperCase() });
    expect(edit.statusCode, edit.body).toBe(200);
    expect(edit.json()).toMatchObject({ id: item.id, folderId: folder.id });
    const restore = await json('POST', `/api/items/${ID}/versions/1/restore`, {});
    expect(restore.statusCode, restore.body).toBe(200);
    const rename = await json('PATCH', `/api/folders/${folder.id.toUpperCase()}`, { name: 'Letters 2024', parentId: other.id.toUpperCase() });
    expect(rename.statusCode, rename.body).toBe(200);
    expect(rename.json()).toMatchObject({ id: folder.id, parentId: other.id });

    const read = await json('GET', `/api/items/${item.id}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ id: item.id, text: 'first', folderId: folder.id });
    expect((await json('GET', `/api/items/${ID}`)).json()).toMatchObject({ id: item.id });
    const list = await json('GET', `/api/items?folderId=${folder.id.toUpperCase()}`);
    expect(list.statusCode, list.body).toBe(200);
    expect((list.json() as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual([item.id]);
    const folders = await json('GET', '/api/folders');
    expect(folders.statusCode, folders.body).toBe(200);
    expect(JSON.stringify(folders.json())).toContain('Letters 2024');
    expect((await json('GET', `/api/items/${item.id}/versions`)).statusCode).toBe(200);
    expect((await json('GET', '/api/search?q=tetanus')).statusCode).toBe(200);
  });

  it('downloads a file by its uppercase id', async () => {
    const up = await app().inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'a.txt', type: 'text/plain', data: Buffer.from('hello\n') }, {}, user.headers),
    });
    const { fileId } = up.json() as { fileId: string };
    const dl = await app().inject({ method: 'GET', url: `/api/files/${fileId.toUpperCase()}`, headers: user.headers });
    expect(dl.statusCode, dl.body).toBe(200);
    expect(dl.body).toBe('hello\n');
  });
});
