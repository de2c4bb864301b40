/**
 * What an upload keeps: nothing when it is refused, the person's edit when the file is read
 * again, and a name that still says what the file is and can be downloaded.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docx } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { waitJob } from '../../test-support/server/jobs.js';

type User = Awaited<ReturnType<typeof signUp>>;
interface Item {
  id: string;
  version: number;
  text: string;
  fileId?: string;
  type?: string;
  data?: { fileName?: string };
  extraction?: { status: string; reason?: string };
}

async function filesUnder(dir: string): Promise<number> {
  const all = await readdir(path.join(dir, 'files'), { recursive: true, withFileTypes: true }).catch(() => []);
  return all.filter((e) => e.isFile()).length;
}

describe.each(dbTargets())('what an upload keeps (%s)', (target) => {
  let sut: TestServer;
  let user: User;
  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const upload = (name: string, type: string, data: Buffer, fields: Record<string, string> = {}) =>
    sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name, type, data }, fields, user.headers) });

  it('keeps nothing of an upload refused for its tags, so the same file can come again', async () => {
    const data = Buffer.from('Orphan test: ferritin 12 ng/mL, unique line 7f3a\n');
    const before = await filesUnder(sut.dataDir);
    const tags = Array.from({ length: 40 }, (_, i) => `t${i}`).join(',');
    const refused = await upload('ferritin.txt', 'text/plain', data, { tags });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('too_many_tags');
    expect(await filesUnder(sut.dataDir)).toBe(before);
    const again = await upload('ferritin.txt', 'text/plain', data, { tags: 'labs' });
    expect(again.statusCode, again.body).toBe(201);
    expect((again.json() as Item).text).toMatch(/ferritin 12/);
  });

  it('keeps the edited text in the history when the file is read again', async () => {
    const created = await upload('discharge.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', await docx(['Discharge letter']));
    expect(created.statusCode).toBe(201);
    let item = created.json() as Item;
    for (let i = 0; item.extraction?.status === 'pending' && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      item = (await sut.app.inject({ method: 'GET', url: `/api/items/${item.id}`, headers: user.headers })).json() as Item;
    }
    const edited = await sut.app.inject({
      method: 'PATCH',
      url: `/api/items/${item.id}`,
      headers: user.headers,
      payload: { text: 'Typed by hand: next appointment 3 March', baseVersion: item.version },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const editedVersion = (edited.json() as Item).version;

    const read = await sut.app.inject({ method: 'POST', url: `/api/items/${item.id}/extract`, headers: user.headers });
    expect(read.statusCode).toBe(202);
    expect((await waitJob(sut.app, user.headers, (read.json() as { jobId: string }).jobId)).status).toBe('done');
    const now = (await sut.app.inject({ method: 'GET', url: `/api/items/${item.id}`, headers: user.headers })).json() as Item;
    expect(now.text).toMatch(/Discharge letter/);
    expect(now.version).toBeGreaterThan(editedVersion);
    const kept = await sut.app.inject({ method: 'GET', url: `/api/items/${item.id}/versions/${editedVersion}`, headers: user.headers });
    expect(kept.statusCode, kept.body).toBe(200);
    expect((kept.json() as Item).text).toBe('Typed by hand: next appointment 3 March');
  });

  it('shortens a long name at a character, keeping its extension, and the file downloads', async () => {
    const long = `${'Arztbrief vom Dezember '.repeat(8)}${'x'.repeat(15)}😀 final.docx`;
    const r = await upload(long, 'application/octet-stream', await docx(['Kardiologie Befund']));
    expect(r.statusCode, r.body).toBe(201);
    const item = r.json() as Item;
    const name = item.data!.fileName!;
    expect(name.length).toBeLessThanOrEqual(200);
    expect(name.endsWith('.docx')).toBe(true);
    expect(name).toBe(name.normalize('NFC'));
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(name)).toBe(false);
    // Read as the Word file it is.
    expect(item.extraction?.reason).not.toBe('unsupported type');
    const down = await sut.app.inject({ method: 'GET', url: `/api/files/${item.fileId}`, headers: user.headers });
    expect(down.statusCode).toBe(200);

    const emoji = `${'a'.repeat(195)}🩺🩺🩺.txt`;
    const t = await upload(emoji, 'text/plain', Buffer.from('stethoscope note'));
    const tName = (t.json() as Item).data!.fileName!;
    expect(tName.endsWith('.txt')).toBe(true);
    expect((await sut.app.inject({ method: 'GET', url: `/api/files/${(t.json() as Item).fileId}`, headers: user.headers })).statusCode).toBe(200);
    expect(sut.logs()).not.toContain('"level":50');
  });

  it('the same file again adds the tags sent with it, and brings a trashed one back with them', async () => {
    const bytes = Buffer.from('Insurance card, member 12345\n');
    const first = await upload('card.txt', 'text/plain', bytes, { tags: '["Insurance"]' });
    expect(first.statusCode).toBe(201);
    const id = (first.json() as Item).id;

    const again = await upload('card.txt', 'text/plain', bytes, { tags: '["insurance", "2026"]' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id, tags: ['Insurance', '2026'] });

    expect((await sut.app.inject({ method: 'DELETE', url: `/api/items/${id}`, headers: user.headers })).statusCode).toBe(204);
    const back = await upload('card.txt', 'text/plain', bytes, { tags: 'taxes' });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ id, tags: ['Insurance', '2026', 'taxes'] });
    const listed = (await sut.app.inject({ method: 'GET', url: '/api/items?tag=taxes', headers: user.headers })).json() as { items: Item[] };
    expect(listed.items.map((i) => i.id)).toEqual([id]);

    // Nothing new to add: the item as it is, no new version.
    const same = await upload('card.txt', 'text/plain', bytes, { tags: 'TAXES' });
    expect(same.json()).toMatchObject({ id, version: (back.json() as Item).version });
  });
});
