import { randomBytes, randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgeIdentity } from '../../crypto/index.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { untar } from '../../test-support/server/export-archive.js';

type Headers = Record<string, string>;
type Job = { status: string; error?: string; result?: { imported: Record<string, number> } };
type Item = { id: string; title: string; fileId?: string | null; folderId?: string | null };

/** The job result's reasons for what an export promised but did not hold (server/export/sections/section.ts). */
const W = {
  fileNotHeld: 'files the export lists but does not hold (not restored)',
  fileSize: 'files whose size differs from what the export lists (restored as they are)',
  itemFile: 'items whose file the export does not hold (restored without it)',
  attachment: 'record attachments the export does not hold (not restored)',
  itemFolder: 'items whose folder the export does not hold (restored outside any folder)',
  parentFolder: 'folders whose parent the export does not hold (restored at the top level)',
  preferenceKept: 'preferences changed after the export was made (kept as they are)',
};

async function makeTar(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  for (const [name, body] of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name }, Buffer.from(body), (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await new Promise<void>((r) => pack.on('end', () => r()));
  return Buffer.concat(chunks);
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const manifest = (counts: Record<string, number> = {}, created = new Date().toISOString()) =>
  JSON.stringify({ format: 'context-vault-export', version: 1, created, includesTrash: false, counts });
const note = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  kind: 'note',
  source: 'manual',
  type: null,
  title: 'A note',
  text: 'text',
  tags: [],
  occurredAt: null,
  createdAt: '2021-05-06T07:08:09.123Z',
  updatedAt: '2021-05-07T00:00:00.000Z',
  folderId: null,
  deletedAt: null,
  ...over,
});

describe.each(dbTargets())('what an export or a restore could not carry is said, not skipped silently (%s)', (target) => {
  let sut: TestServer;
  let id: Awaited<ReturnType<typeof generateAgeIdentity>>;

  beforeAll(async () => {
    sut = await startTestServer(target, { RATE_LIMIT_EXPORT_PER_HOUR: '1000' });
    id = await generateAgeIdentity();
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const seal = async (plain: Buffer) => {
    const enc = new Encrypter();
    enc.addRecipient(id.recipient);
    return Buffer.from(await enc.encrypt(plain));
  };
  const open = async (sealed: Buffer) => {
    const d = new Decrypter();
    d.addIdentity(id.identity);
    return Buffer.from(await d.decrypt(new Uint8Array(sealed)));
  };
  const restore = async (h: Headers, sealed: Buffer): Promise<Job> => {
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: sealed }, { identity: id.identity }, h),
    });
    expect(imp.statusCode, imp.body).toBe(202);
    for (let i = 0; i < 600; i++) {
      const job = (await sut.app.inject({ method: 'GET', url: `/api/jobs/${imp.json().jobId}`, headers: h })).json() as Job;
      if (job.status === 'done' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  };
  const items = async (h: Headers, query = ''): Promise<Item[]> =>
    (await sut.app.inject({ method: 'GET', url: `/api/items?limit=200${query}`, headers: h })).json().items;
  const upload = async (h: Headers, name: string, data: Buffer) => {
    const up = await sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name, type: 'application/octet-stream', data }, {}, h) });
    expect(up.statusCode).toBe(201);
    return up.json() as Item & { fileId: string };
  };
  /** The encrypted object of one stored file (local storage under DATA_DIR). */
  const blobOf = (userId: string, fileId: string): string => path.join(sut.dataDir, 'files', userId, fileId);
  const activity = async (h: Headers): Promise<string[]> =>
    ((await sut.app.inject({ method: 'GET', url: '/api/activity?limit=50', headers: h })).json().events as Array<{ action: string }>).map((e) => e.action);

  it('restores what a damaged archive holds and counts, per reason, the files, sizes and folders it lists but lacks', async () => {
    const [held, short, gone, attached] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const [folder, orphanParent] = [randomUUID(), randomUUID()];
    const secretName = 'diagnosis-secret.pdf';
    const tarBytes = await makeTar([
      ['manifest.json', manifest({ files: 4, folders: 2, items: 4 })],
      [
        'files.jsonl',
        jsonl([
          { id: held, name: 'held.bin', contentType: 'application/octet-stream', size: 100 },
          { id: short, name: 'short.bin', contentType: 'application/octet-stream', size: 5000 },
          { id: gone, name: secretName, contentType: 'application/pdf', size: 300 },
          { id: attached, name: 'attached.bin', contentType: 'application/octet-stream', size: 200 },
        ]),
      ],
      [`files/${held}/held.bin`, randomBytes(100)],
      // Declared 5000 bytes in files.jsonl, 4000 in the tar.
      [`files/${short}/short.bin`, randomBytes(4000)],
      [
        'folders.jsonl',
        jsonl([
          { id: folder, name: 'Letters', parentId: null },
          { id: randomUUID(), name: 'Stray', parentId: orphanParent },
        ]),
      ],
      [
        'items.jsonl',
        jsonl([
          note({ kind: 'document', source: 'upload', type: 'application/octet-stream', title: 'Held', fileId: held, folderId: folder }),
          note({ kind: 'document', source: 'upload', type: 'application/pdf', title: 'Secret title', fileId: gone }),
          note({
            kind: 'record',
            source: 'fhir',
            type: 'DocumentReference',
            title: 'Letter',
            fileId: short,
            data: {
              files: [
                { fileId: short, name: 'short.bin' },
                { fileId: attached, name: 'attached.bin' },
              ],
            },
          }),
          note({ title: 'Filed nowhere', folderId: randomUUID() }),
        ]),
      ],
    ]);
    const user = await signUp(sut.app);
    const logsBefore = sut.logs().length;
    const job = await restore(user.headers, await seal(tarBytes));

    expect(job.status, job.error).toBe('done');
    expect(job.result?.imported).toEqual({
      files: 2,
      folders: 2,
      items: 4,
      [W.fileNotHeld]: 2,
      [W.fileSize]: 1,
      [W.itemFile]: 1,
      [W.attachment]: 1,
      [W.itemFolder]: 1,
      [W.parentFolder]: 1,
    });
    const list = await items(user.headers);
    expect(list.map((i) => i.title).sort()).toEqual(['Filed nowhere', 'Held', 'Letter', 'Secret title']);
    expect(list.find((i) => i.title === 'Secret title')!.fileId ?? null).toBeNull();
    expect((await items(user.headers, '&folderId=none')).map((i) => i.title)).toContain('Filed nowhere');
    const logs = sut.logs().slice(logsBefore);
    expect(logs).not.toContain(secretName);
    expect(logs).not.toContain('Secret title');
    expect(logs).not.toContain(gone);
  });

  it('an intact archive restores with no warnings', async () => {
    const fileId = randomUUID();
    const bytes = randomBytes(300);
    const folder = randomUUID();
    const job = await restore(
      (await signUp(sut.app)).headers,
      await seal(
        await makeTar([
          ['manifest.json', manifest({ files: 1, folders: 1, items: 1 })],
          ['files.jsonl', jsonl([{ id: fileId, name: 'a.bin', contentType: 'application/octet-stream', size: bytes.length }])],
          [`files/${fileId}/a.bin`, bytes],
          ['folders.jsonl', jsonl([{ id: folder, name: 'F', parentId: null }])],
          ['items.jsonl', jsonl([note({ kind: 'document', source: 'upload', type: 'application/octet-stream', fileId, folderId: folder })])],
        ]),
      ),
    );
    expect(job).toMatchObject({ status: 'done' });
    expect(job.result?.imported).toEqual({ files: 1, folders: 1, items: 1 });
  });

  it('a file gone from storage leaves the export whole but for it, names it as missing, and the activity says the export is incomplete', async () => {
    const owner = await signUp(sut.app);
    const h = owner.headers;
    const kept = await upload(h, 'kept.bin', randomBytes(2000));
    const lost = await upload(h, 'lost.bin', randomBytes(3000));
    await rm(blobOf(owner.user.id, lost.fileId));

    for (let run = 0; run < 2; run++) {
      const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: h, payload: { recipient: id.recipient } });
      expect(res.statusCode).toBe(200);
      const plain = await untar(await open(res.rawPayload));
      expect([...plain.keys()].filter((n) => n.startsWith('files/'))).toEqual([`files/${kept.fileId}/kept.bin`]);
      expect(plain.get('files.jsonl')!.toString().trim().split('\n')).toHaveLength(2);
      expect(plain.get('items.jsonl')!.toString().trim().split('\n')).toHaveLength(2);
      expect(JSON.parse(plain.get('missing.jsonl')!.toString())).toEqual({ section: 'files', id: lost.fileId });

      if (run === 0) {
        const other = await signUp(sut.app);
        const job = await restore(other.headers, res.rawPayload);
        expect(job.status, job.error).toBe('done');
        expect(job.result?.imported).toEqual({ items: 2, files: 1, [W.fileNotHeld]: 1, [W.itemFile]: 1 });
      }
    }
    const events = await activity(h);
    expect(events.filter((a) => a === 'export')).toHaveLength(2);
    expect(events.filter((a) => a === 'export_incomplete')).toHaveLength(2);
    expect(events).not.toContain('export_failed');
  });

  it('an export that fails mid-stream is recorded as failed after the export it began as', async () => {
    const owner = await signUp(sut.app);
    const h = owner.headers;
    const bad = await upload(h, 'bad.bin', randomBytes(3000));
    // Present but not what was stored (a damaged disk): it cannot be read, so the export stops.
    const blob = blobOf(owner.user.id, bad.fileId);
    await writeFile(blob, randomBytes(3100));

    // The download ends short: the reply is destroyed once the headers went out.
    await expect(sut.app.inject({ method: 'POST', url: '/api/export', headers: h, payload: { recipient: id.recipient } })).rejects.toThrow(/destroyed/);
    let events: string[] = [];
    for (let i = 0; i < 100 && !events.includes('export_failed'); i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      events = await activity(h);
    }
    expect(events.slice(0, 2)).toEqual(['export_failed', 'export']);
  });

  it('an old export does not set back a preference changed after it was made; it fills in what is unset, and says what it kept', async () => {
    const owner = await signUp(sut.app);
    const put = async (h: Headers, payload: Record<string, unknown>) =>
      expect((await sut.app.inject({ method: 'PUT', url: '/api/preferences', headers: h, payload })).statusCode).toBe(200);
    const prefs = async (h: Headers) => (await sut.app.inject({ method: 'GET', url: '/api/preferences', headers: h })).json();
    await put(owner.headers, { cards: ['sleep', 'weight'], units: { weight: 'kg', distance: 'km' } });
    const old = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { recipient: id.recipient } });
    expect(old.statusCode).toBe(200);

    // Changed after the export: the weight unit and the cards. Distance was not.
    await put(owner.headers, { cards: ['weight'], units: { weight: 'lb' } });
    const again = await restore(owner.headers, old.rawPayload);
    expect(again).toMatchObject({ status: 'done', result: { imported: { [W.preferenceKept]: 2 } } });
    expect(again.result?.imported.preferences).toBeUndefined();
    expect(await prefs(owner.headers)).toEqual({ cards: ['weight'], units: { weight: 'lb', distance: 'km' } });

    // Another account's choice made after the export stays; what it never set comes from the export.
    const other = await signUp(sut.app);
    await put(other.headers, { units: { weight: 'lb' } });
    const into = await restore(other.headers, old.rawPayload);
    expect(into).toMatchObject({ status: 'done', result: { imported: { preferences: 1, [W.preferenceKept]: 1 } } });
    expect(await prefs(other.headers)).toEqual({ cards: ['sleep', 'weight'], units: { weight: 'lb', distance: 'km' } });

    // An export made after the account's last change is newer: its values win, as a Settings change would.
    const third = await signUp(sut.app);
    await put(third.headers, { units: { weight: 'lb' } });
    await new Promise((r) => setTimeout(r, 20));
    const newer = await seal(
      await makeTar([
        ['manifest.json', manifest({ preferences: 1 })],
        ['preferences.jsonl', jsonl([{ units: { weight: 'kg' } }])],
      ]),
    );
    const newerJob = await restore(third.headers, newer);
    expect(newerJob).toMatchObject({ status: 'done', result: { imported: { preferences: 1 } } });
    expect(newerJob.result?.imported[W.preferenceKept]).toBeUndefined();
    expect((await prefs(third.headers)).units.weight).toBe('kg');
  });
});
