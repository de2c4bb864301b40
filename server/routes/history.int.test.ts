import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

type Headers = Record<string, string>;
interface Item {
  id: string;
  title: string;
  text: string;
  tags: string[];
  version: number;
  folderId: string | null;
  fileId?: string;
  occurredAt: string | null;
}

const DAY = 86_400_000;
const FHIR_DOCS = new URL('../../integrations/fhir/fixtures/DocumentReference.augustus49-emmerich580.ndjson', import.meta.url);

describe.each(dbTargets())('history, folders and permanent delete (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target, { HISTORY_MAX_VERSIONS: '5', TRASH_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  const json = async <T>(opts: InjectOptions, status = 200): Promise<T> => {
    const res = await inject(opts);
    expect(res.statusCode, res.body).toBe(status);
    return res.json() as T;
  };
  const note = (h: Headers, payload: Record<string, unknown>) => json<Item>({ method: 'POST', url: '/api/items', headers: h, payload }, 201);
  const patch = (h: Headers, id: string, payload: Record<string, unknown>, extra: Headers = {}) =>
    inject({ method: 'PATCH', url: `/api/items/${id}`, headers: { ...h, ...extra }, payload });
  const list = (h: Headers, q: string) => json<{ items: Item[] }>({ method: 'GET', url: `/api/items?limit=200&${q}`, headers: h }).then((r) => r.items);
  const folder = (h: Headers, name: string, parentId?: string) =>
    json<{ id: string; name: string; parentId: string | null }>(
      { method: 'POST', url: '/api/folders', headers: h, payload: { name, ...(parentId ? { parentId } : {}) } },
      201,
    );

  it('keeps each save as a version: list, view, diff, restore (a new version)', async () => {
    const u = await signUp(sut.app);
    const created = await note(u.headers, { title: 'Groceries', text: 'milk\nbread\n', tags: ['home'] });
    expect(created).toMatchObject({ version: 1, folderId: null });
    let current = created;
    for (const [i, text] of ['milk\nbread\neggs\n', 'oat milk\nbread\neggs\n', 'oat milk\nrye bread\neggs\n'].entries()) {
      const res = await patch(u.headers, created.id, { text, ...(i === 1 ? { title: 'Groceries (week 2)' } : {}), baseVersion: current.version });
      expect(res.statusCode, res.body).toBe(200);
      current = res.json() as Item;
      expect(current.version).toBe(i + 2);
    }
    const { versions } = await json<{ versions: Array<{ version: number; title: string; updatedAt: string; current: boolean; savedBy: string | null }> }>({
      method: 'GET',
      url: `/api/items/${created.id}/versions`,
      headers: u.headers,
    });
    expect(versions.map((v) => [v.version, v.title, v.current])).toEqual([
      [4, 'Groceries (week 2)', true],
      [3, 'Groceries (week 2)', false],
      [2, 'Groceries', false],
      [1, 'Groceries', false],
    ]);
    // Version 1 was created, not saved by a session; later ones were saved by this one.
    expect(versions.map((v) => v.savedBy)).toEqual(['this', 'this', 'this', null]);

    const v1 = await json<Item>({ method: 'GET', url: `/api/items/${created.id}/versions/1`, headers: u.headers });
    expect(v1).toMatchObject({ id: created.id, version: 1, title: 'Groceries', text: 'milk\nbread\n', tags: ['home'] });
    const diff = await json<{ from: number; to: number; title: { before: string; after: string }; text: Array<{ op: string; lines: string[] }> }>({
      method: 'GET',
      url: `/api/items/${created.id}/versions/1/diff`,
      headers: u.headers,
    });
    expect(diff).toMatchObject({ from: 1, to: 4, title: { before: 'Groceries', after: 'Groceries (week 2)' } });
    expect(diff.text).toEqual([
      { op: 'removed', lines: ['milk', 'bread'] },
      { op: 'added', lines: ['oat milk', 'rye bread', 'eggs'] },
      { op: 'same', lines: [''] },
    ]);

    const restored = await json<Item>({ method: 'POST', url: `/api/items/${created.id}/versions/1/restore`, headers: u.headers, payload: { baseVersion: 4 } });
    expect(restored).toMatchObject({ version: 5, title: 'Groceries', text: 'milk\nbread\n' });
    expect(await json<Item>({ method: 'GET', url: `/api/items/${created.id}`, headers: u.headers })).toMatchObject({ version: 5, text: 'milk\nbread\n' });
    const after = await json<{ versions: Array<{ version: number }> }>({ method: 'GET', url: `/api/items/${created.id}/versions`, headers: u.headers });
    expect(after.versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
    // The restored text is searchable again, the replaced one is not.
    const hits = await json<{ results: Array<{ item: Item }> }>({ method: 'GET', url: '/api/search?q=rye', headers: u.headers });
    expect(hits.results).toHaveLength(0);

    // Other users see nothing; unknown versions are 404.
    const other = await signUp(sut.app);
    expect((await inject({ method: 'GET', url: `/api/items/${created.id}/versions`, headers: other.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/items/${created.id}/versions/1`, headers: other.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/items/${created.id}/versions/99`, headers: u.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/items/${created.id}/versions/0`, headers: u.headers })).json().error.code).toBe('invalid_request');
  });

  it('a save that changes nothing is no new version', async () => {
    const u = await signUp(sut.app);
    const n = await note(u.headers, { title: 'Allergies', text: 'penicillin', tags: ['health', 'meds'] });
    for (const payload of [{ title: 'Allergies' }, { occurredAt: null }, { text: 'penicillin', tags: ['health', 'meds'] }]) {
      const res = await patch(u.headers, n.id, payload);
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as Item).version).toBe(1);
    }
    const changed = await patch(u.headers, n.id, { text: 'penicillin, latex' });
    expect((changed.json() as Item).version).toBe(2);
    const { versions } = await json<{ versions: Array<{ version: number }> }>({ method: 'GET', url: `/api/items/${n.id}/versions`, headers: u.headers });
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
  });

  it('prunes history by count (oldest first) and by age', async () => {
    const u = await signUp(sut.app);
    const n = await note(u.headers, { title: 'Journal', text: 'v1' });
    for (let v = 1; v <= 8; v++) expect((await patch(u.headers, n.id, { text: `v${v + 1}`, baseVersion: v })).statusCode).toBe(200);
    const kept = async () =>
      (await json<{ versions: Array<{ version: number }> }>({ method: 'GET', url: `/api/items/${n.id}/versions`, headers: u.headers })).versions.map(
        (v) => v.version,
      );
    // HISTORY_MAX_VERSIONS=5: the current version and the five before it.
    expect(await kept()).toEqual([9, 8, 7, 6, 5, 4]);
    expect((await inject({ method: 'GET', url: `/api/items/${n.id}/versions/3`, headers: u.headers })).statusCode).toBe(404);

    // Age: versions saved more than HISTORY_MAX_AGE_DAYS (365) ago go at the next save.
    await sut.stop();
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    await sql`update item_versions set saved_at = now() - interval '400 days' where item_id = ${n.id} and version <= 6`.execute(db);
    await db.destroy();
    await sut.restart();
    const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: u.email, passphrase: u.passphrase } });
    const h = { cookie: String(login.headers['set-cookie']).split(';')[0]! };
    expect((await patch(h, n.id, { text: 'v10', baseVersion: 9 })).statusCode).toBe(200);
    const res = await json<{ versions: Array<{ version: number }> }>({ method: 'GET', url: `/api/items/${n.id}/versions`, headers: h });
    expect(res.versions.map((v) => v.version)).toEqual([10, 9, 8, 7]);
  });

  it('refuses a stale base version with 409 and the current item, and merges edits that do not overlap', async () => {
    const u = await signUp(sut.app);
    const base = 'Trip plan\n- book flights\n- hotel near the station\n\nPacking\n- passport\n- charger\n';
    const n = await note(u.headers, { title: 'Lisbon', text: base, tags: ['travel'] });

    // Tab A saves first (If-Match from the ETag, as a plain HTTP client would).
    const etag = (await inject({ method: 'GET', url: `/api/items/${n.id}`, headers: u.headers })).headers.etag;
    expect(etag).toBe('"1"');
    const a = await patch(u.headers, n.id, { text: base.replace('- book flights', '- book flights (TAP, 9:40)') }, { 'if-match': String(etag) });
    expect(a.statusCode, a.body).toBe(200);
    expect(a.json().version).toBe(2);

    // Tab B still thinks it edits version 1.
    const stale = await patch(u.headers, n.id, { text: base.replace('- charger', '- charger\n- adapter'), baseVersion: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('version_conflict');
    expect(stale.json().current).toMatchObject({ id: n.id, version: 2, text: a.json().text });
    expect((await patch(u.headers, n.id, { text: 'x' }, { 'if-match': 'W/"1"' })).statusCode).toBe(409);
    expect((await patch(u.headers, n.id, { text: 'x' }, { 'if-match': 'nonsense' })).statusCode).toBe(400);

    // With merge, B's edit lands on top of A's: both changes are kept.
    const merged = await patch(u.headers, n.id, {
      text: base.replace('- charger', '- charger\n- adapter'),
      tags: ['travel', 'portugal'],
      baseVersion: 1,
      merge: true,
    });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json()).toMatchObject({
      version: 3,
      text: 'Trip plan\n- book flights (TAP, 9:40)\n- hotel near the station\n\nPacking\n- passport\n- charger\n- adapter\n',
      tags: ['travel', 'portugal'],
    });

    // Overlapping edits are not merged: 409 with the current version.
    const overlap = await patch(u.headers, n.id, { text: base.replace('- book flights', '- book the train instead'), baseVersion: 1, merge: true });
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json().current.version).toBe(3);
    // A base from the future is a conflict too, never a silent overwrite.
    expect((await patch(u.headers, n.id, { text: 'y', baseVersion: 7 })).statusCode).toBe(409);
    expect(await json<Item>({ method: 'GET', url: `/api/items/${n.id}`, headers: u.headers })).toMatchObject({ version: 3 });
  });

  it('nests folders three deep, moves items and folders, lists recursively with counts, and deletes into the trash', async () => {
    const u = await signUp(sut.app);
    const health = await folder(u.headers, 'Health');
    const labs = await folder(u.headers, 'Labs', health.id);
    const y2026 = await folder(u.headers, '2026', labs.id);
    const work = await folder(u.headers, 'Work');
    const [n1, n2, n3, n4] = await Promise.all(['GP visit', 'Cholesterol', 'HbA1c March', 'Standup'].map((t) => note(u.headers, { title: t, text: t })));
    for (const [item, f] of [
      [n1, health],
      [n2, labs],
      [n3, y2026],
      [n4, work],
    ] as const) {
      const res = await patch(u.headers, item!.id, { folderId: f.id });
      expect(res.statusCode, res.body).toBe(200);
      // A move is not an edit: no new version, so an open editor does not conflict.
      expect(res.json()).toMatchObject({ folderId: f.id, version: 1 });
    }
    const titles = (items: Item[]) => items.map((i) => i.title).sort();
    expect(titles(await list(u.headers, `folderId=${health.id}`))).toEqual(['GP visit']);
    expect(titles(await list(u.headers, `folderId=${health.id}&recursive=true`))).toEqual(['Cholesterol', 'GP visit', 'HbA1c March']);
    expect(titles(await list(u.headers, `folderId=${labs.id}&recursive=true`))).toEqual(['Cholesterol', 'HbA1c March']);
    const counts = async () =>
      Object.fromEntries(
        (
          await json<{ folders: Array<{ name: string; count: number; parentId: string | null }> }>({ method: 'GET', url: '/api/folders', headers: u.headers })
        ).folders.map((f) => [f.name, f.count]),
      );
    expect(await counts()).toEqual({ Health: 1, Labs: 1, '2026': 1, Work: 1 });

    // Move a subtree under Work, rename it; cycles are refused.
    const moved = await json<{ parentId: string }>({
      method: 'PATCH',
      url: `/api/folders/${labs.id}`,
      headers: u.headers,
      payload: { parentId: work.id, name: 'Lab results' },
    });
    expect(moved).toMatchObject({ parentId: work.id, name: 'Lab results' });
    expect(titles(await list(u.headers, `folderId=${work.id}&recursive=true`))).toEqual(['Cholesterol', 'HbA1c March', 'Standup']);
    expect(titles(await list(u.headers, `folderId=${health.id}&recursive=true`))).toEqual(['GP visit']);
    const cycle = await inject({ method: 'PATCH', url: `/api/folders/${work.id}`, headers: u.headers, payload: { parentId: y2026.id } });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().error.code).toBe('folder_cycle');
    expect(titles(await list(u.headers, 'folderId=none'))).toEqual([]);
    expect((await patch(u.headers, n1!.id, { folderId: null })).json().folderId).toBeNull();
    expect(titles(await list(u.headers, 'folderId=none'))).toEqual(['GP visit']);

    // Another user's folder is not there for this user, and the reverse.
    const other = await signUp(sut.app);
    const theirs = await folder(other.headers, 'Private');
    expect((await patch(u.headers, n1!.id, { folderId: theirs.id })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/items?folderId=${theirs.id}`, headers: u.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: `/api/folders/${work.id}`, headers: other.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'POST', url: '/api/folders', headers: u.headers, payload: { name: '  ' } })).statusCode).toBe(400);

    // Deleting Work sends everything under it to the trash and removes its subfolders.
    expect((await inject({ method: 'DELETE', url: `/api/folders/${work.id}`, headers: u.headers })).statusCode).toBe(204);
    expect(Object.keys(await counts())).toEqual(['Health']);
    const trash = await json<{ items: Item[] }>({ method: 'GET', url: '/api/trash', headers: u.headers });
    expect(titles(trash.items)).toEqual(['Cholesterol', 'HbA1c March', 'Standup']);
    expect(titles(await list(u.headers, ''))).toEqual(['GP visit']);
  });

  it('deletes for good from the trash, empties it, and purges after the retention period: rows, versions, postings and file bytes', async () => {
    const u = await signUp(sut.app);
    const canary = `gone${randomBytes(5).toString('hex')}`;
    const n = await note(u.headers, { title: `${canary} note`, text: `${canary} first`, tags: [`${canary}tag`] });
    expect((await patch(u.headers, n.id, { text: `${canary} second`, baseVersion: 1 })).statusCode).toBe(200);
    const up = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'scan.txt', type: 'text/plain', data: Buffer.from(`${canary} file body\n`.repeat(100)) }, {}, u.headers),
    });
    expect(up.statusCode).toBe(201);
    const doc = up.json() as Item;
    expect((await patch(u.headers, doc.id, { title: `${canary} renamed`, baseVersion: 1 })).statusCode).toBe(200);
    const keep = await note(u.headers, { title: 'keep me', text: 'still here' });
    const blob = path.join(sut.dataDir, 'files', u.user.id, doc.fileId!);
    expect(existsSync(blob)).toBe(true);

    // Only trashed items can be deleted for good.
    expect((await inject({ method: 'DELETE', url: `/api/trash/${n.id}`, headers: u.headers })).statusCode).toBe(404);
    for (const id of [n.id, doc.id]) expect((await inject({ method: 'DELETE', url: `/api/items/${id}`, headers: u.headers })).statusCode).toBe(204);

    // Not yet expired: the purge leaves them.
    expect(await sut.app.trash!.purgeExpired(new Date(Date.now() + 29 * DAY))).toBe(0);
    expect((await json<{ items: Item[] }>({ method: 'GET', url: '/api/trash', headers: u.headers })).items).toHaveLength(2);
    // Thirty days on, they are gone with everything that hung off them.
    expect(await sut.app.trash!.purgeExpired(new Date(Date.now() + 31 * DAY))).toBeGreaterThanOrEqual(2);
    expect((await json<{ items: Item[] }>({ method: 'GET', url: '/api/trash', headers: u.headers })).items).toHaveLength(0);
    expect(existsSync(blob)).toBe(false);
    expect((await inject({ method: 'GET', url: `/api/files/${doc.fileId}`, headers: u.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/items/${keep.id}`, headers: u.headers })).statusCode).toBe(200);
    const hits = await json<{ results: unknown[] }>({ method: 'GET', url: `/api/search?q=${canary}`, headers: u.headers });
    expect(hits.results).toHaveLength(0);
    const tags = await json<{ tags: Array<{ name: string }> }>({ method: 'GET', url: '/api/tags', headers: u.headers });
    expect(tags.tags).toEqual([]);

    // Delete one for good, then empty the rest.
    const t1 = await note(u.headers, { title: 'trash one', text: 'a' });
    const t2 = await note(u.headers, { title: 'trash two', text: 'b' });
    for (const id of [t1.id, t2.id, keep.id]) await inject({ method: 'DELETE', url: `/api/items/${id}`, headers: u.headers });
    expect((await inject({ method: 'DELETE', url: `/api/trash/${t1.id}`, headers: u.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'POST', url: `/api/items/${t1.id}/restore`, headers: u.headers })).statusCode).toBe(404);
    expect((await json<{ items: Item[] }>({ method: 'GET', url: '/api/trash', headers: u.headers })).items.map((i) => i.title).sort()).toEqual([
      'keep me',
      'trash two',
    ]);
    const other = await signUp(sut.app);
    expect((await inject({ method: 'DELETE', url: `/api/trash/${t2.id}`, headers: other.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: '/api/trash', headers: u.headers })).statusCode).toBe(204);
    expect((await json<{ items: Item[] }>({ method: 'GET', url: '/api/trash', headers: u.headers })).items).toHaveLength(0);

    await sut.stop();
    const dump = await sut.dumpDatabase();
    for (const id of [n.id, doc.id, doc.fileId!, t1.id, t2.id, keep.id]) expect(dump).not.toContain(id);
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    for (const table of ['vault_items', 'item_versions', 'search_terms', 'tags', 'files'] as const) {
      const r = await sql<{ n: string | number }>`select count(*) as n from ${sql.table(table)} where user_id = ${u.user.id}`.execute(db);
      expect(Number(r.rows[0]!.n), table).toBe(0);
    }
    await db.destroy();
    await sut.restart();
  });

  it('keeps a file shared by two records when one of them is deleted for good', async () => {
    const u = await signUp(sut.app);
    // A real Synthea clinical note filed twice (a superseded copy and the current one, same text).
    const doc = JSON.parse(readFileSync(FHIR_DOCS, 'utf8').split('\n')[0]!);
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: doc }, { resource: { ...doc, id: `${doc.id}-copy`, status: 'current' } }],
    };
    const job = await json<{ jobId: string }>(
      { method: 'POST', url: '/api/import/fhir', headers: { ...u.headers, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(bundle) },
      202,
    );
    for (let i = 0; ; i++) {
      const j = await json<{ status: string }>({ method: 'GET', url: `/api/jobs/${job.jobId}`, headers: u.headers });
      if (j.status === 'done') break;
      expect(j.status).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 50));
    }
    const docs = (await list(u.headers, 'kind=document')).filter((i) => i.fileId);
    expect(docs).toHaveLength(2);
    expect(docs[0]!.fileId).toBe(docs[1]!.fileId);
    const blob = path.join(sut.dataDir, 'files', u.user.id, docs[0]!.fileId!);

    await inject({ method: 'DELETE', url: `/api/items/${docs[0]!.id}`, headers: u.headers });
    expect((await inject({ method: 'DELETE', url: `/api/trash/${docs[0]!.id}`, headers: u.headers })).statusCode).toBe(204);
    expect(existsSync(blob)).toBe(true);
    const file = await inject({ method: 'GET', url: `/api/files/${docs[1]!.fileId}`, headers: u.headers });
    expect(file.statusCode).toBe(200);
    expect(file.body).toContain('Chief Complaint');

    await inject({ method: 'DELETE', url: `/api/items/${docs[1]!.id}`, headers: u.headers });
    expect((await inject({ method: 'DELETE', url: '/api/trash', headers: u.headers })).statusCode).toBe(204);
    expect(existsSync(blob)).toBe(false);
  });

  it('keeps a file another record links as a second attachment, and removes both once neither record is left', async () => {
    const u = await signUp(sut.app);
    const [first, second] = readFileSync(FHIR_DOCS, 'utf8')
      .split('\n')
      .slice(0, 2)
      .map((l) => JSON.parse(l));
    // A note with two attachments (its own text and the second note's), and the second note alone.
    const both = { ...first, content: [...first.content, ...second.content] };
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: both }, { resource: second }] };
    const job = await json<{ jobId: string }>(
      { method: 'POST', url: '/api/import/fhir', headers: { ...u.headers, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(bundle) },
      202,
    );
    for (;;) {
      const j = await json<{ status: string }>({ method: 'GET', url: `/api/jobs/${job.jobId}`, headers: u.headers });
      if (j.status === 'done') break;
      expect(j.status).not.toBe('failed');
      await new Promise((r) => setTimeout(r, 50));
    }
    const docs = await list(u.headers, 'kind=document');
    const a = docs.find((d) => ((d as Item & { data: { files: unknown[] } }).data.files ?? []).length === 2)!;
    const b = docs.find((d) => d.id !== a.id)!;
    const aFiles = (a as Item & { data: { files: Array<{ fileId: string }> } }).data.files.map((f) => f.fileId);
    expect(aFiles).toHaveLength(2);
    expect(aFiles[1]).toBe(b.fileId);
    const blob = (id: string) => path.join(sut.dataDir, 'files', u.user.id, id);

    await inject({ method: 'DELETE', url: `/api/items/${b.id}`, headers: u.headers });
    expect(await sut.app.trash!.purgeExpired(new Date(Date.now() + 40 * DAY))).toBeGreaterThanOrEqual(1);
    expect(existsSync(blob(b.fileId!))).toBe(true);
    expect((await inject({ method: 'GET', url: `/api/files/${aFiles[1]}`, headers: u.headers })).statusCode).toBe(200);

    await inject({ method: 'DELETE', url: `/api/items/${a.id}`, headers: u.headers });
    expect((await inject({ method: 'DELETE', url: `/api/trash/${a.id}`, headers: u.headers })).statusCode).toBe(204);
    for (const id of aFiles) expect(existsSync(blob(id))).toBe(false);
  });

  it('never writes version contents or folder names in clear: database dump, data directory, logs', async () => {
    const u = await signUp(sut.app);
    const canary = `hist${randomBytes(6).toString('hex')}`;
    const f = await folder(u.headers, `${canary}-folder`);
    const child = await folder(u.headers, `${canary}-child`, f.id);
    await json({ method: 'PATCH', url: `/api/folders/${child.id}`, headers: u.headers, payload: { name: `${canary}-renamed` } });
    const n = await note(u.headers, { title: `${canary}-v1title`, text: `${canary}-v1text` });
    expect((await patch(u.headers, n.id, { title: `${canary}-v2title`, text: `${canary}-v2text`, baseVersion: 1, folderId: child.id })).statusCode).toBe(200);
    expect((await patch(u.headers, n.id, { text: `${canary}-v3text`, baseVersion: 2 })).statusCode).toBe(200);
    expect((await json<Item>({ method: 'GET', url: `/api/items/${n.id}/versions/1`, headers: u.headers })).text).toBe(`${canary}-v1text`);

    await sut.stop();
    const dump = await sut.dumpDatabase();
    const disk = await sut.dumpDataDir();
    for (const needle of ['folder', 'child', 'renamed', 'v1title', 'v1text', 'v2title', 'v2text', 'v3text']) {
      expect(dump).not.toContain(`${canary}-${needle}`);
      expect(disk.includes(Buffer.from(`${canary}-${needle}`))).toBe(false);
      expect(sut.logs()).not.toContain(`${canary}-${needle}`);
    }
    await sut.restart();
  });
});
