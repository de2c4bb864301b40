import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgeIdentity } from '../../crypto/index.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { untar } from '../../test-support/server/export-archive.js';
import { importFhir } from '../../test-support/server/jobs.js';

type Headers = Record<string, string>;
type Job = { status: string; error?: string; errorCode?: string; result?: { imported: Record<string, number> } };
type Item = { id: string; title: string; createdAt: string; updatedAt: string; fileId?: string; data?: Record<string, unknown> };

/** A tar's bytes; `finalize: false` leaves the end-of-archive blocks off (for a cut). */
async function makeTar(entries: Array<[string, Buffer | string]>, finalize = true): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  for (const [name, body] of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name }, Buffer.from(body), (err) => (err ? reject(err) : resolve())));
  }
  if (finalize) {
    pack.finalize();
    await new Promise<void>((r) => pack.on('end', () => r()));
  }
  await new Promise((r) => setImmediate(r));
  return Buffer.concat(chunks);
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const manifest = (counts: Record<string, number> = {}) =>
  JSON.stringify({ format: 'context-vault-export', version: 1, created: new Date().toISOString(), includesTrash: false, counts });
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

describe.each(dbTargets())('export and restore: what goes in, what comes back, what a failure leaves (%s)', (target) => {
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
  const exportOf = async (h: Headers, includeTrash = false) => {
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: h, payload: { recipient: id.recipient, includeTrash } });
    expect(res.statusCode).toBe(200);
    return res.rawPayload;
  };
  const waitJob = async (h: Headers, jobId: string): Promise<Job> => {
    for (let i = 0; i < 600; i++) {
      const job = (await sut.app.inject({ method: 'GET', url: `/api/jobs/${jobId}`, headers: h })).json() as Job;
      if (job.status === 'done' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  };
  const restore = async (h: Headers, sealed: Buffer): Promise<Job> => {
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: sealed }, { identity: id.identity }, h),
    });
    expect(imp.statusCode, imp.body).toBe(202);
    return waitJob(h, imp.json().jobId);
  };
  const items = async (h: Headers, url = '/api/items', query = ''): Promise<Item[]> =>
    (await sut.app.inject({ method: 'GET', url: `${url}?limit=200${query ? `&${query}` : ''}`, headers: h })).json().items;
  const upload = async (h: Headers, name: string, data: Buffer) => {
    const up = await sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name, type: 'application/octet-stream', data }, {}, h) });
    expect(up.statusCode).toBe(201);
    return up.json() as Item & { fileId: string };
  };
  /** The account's stored file rows (a live PGlite is read by stopping the server for a moment). */
  const fileRows = async (userId: string): Promise<number> => {
    if (target === 'pglite') await sut.stop();
    try {
      const dump = await sut.dumpDatabase();
      const rows = dump.split('-- files\n')[1]!.split('\n-- ')[0]!.split('\n');
      return rows.filter((r) => r.includes(userId)).length;
    } finally {
      if (target === 'pglite') await sut.restart();
    }
  };

  /** The account's encrypted file objects under DATA_DIR (local storage). */
  const filesOnDisk = async (userId: string): Promise<number> => {
    const all = await readdir(path.join(sut.dataDir, 'files', userId), { recursive: true, withFileTypes: true }).catch(() => []);
    return all.filter((e) => e.isFile()).length;
  };

  it('leaves a trashed item’s file out of an export without trash, and restores no file that no item uses', async () => {
    const owner = await signUp(sut.app);
    const kept = await upload(owner.headers, 'kept.bin', randomBytes(2000));
    const trashed = await upload(owner.headers, 'trashed.bin', randomBytes(3000));
    expect((await sut.app.inject({ method: 'DELETE', url: `/api/items/${trashed.id}`, headers: owner.headers })).statusCode).toBe(204);

    const plain = await untar(await open(await exportOf(owner.headers)));
    const bodies = [...plain.keys()].filter((n) => n.startsWith('files/'));
    expect(bodies).toEqual([`files/${kept.fileId}/kept.bin`]);
    expect(JSON.parse(plain.get('manifest.json')!.toString()).counts).toMatchObject({ items: 1, files: 1 });
    expect(plain.get('files.jsonl')!.toString().trim().split('\n')).toHaveLength(1);

    const all = await untar(await open(await exportOf(owner.headers, true)));
    expect([...all.keys()].filter((n) => n.startsWith('files/')).sort()).toEqual(
      [`files/${kept.fileId}/kept.bin`, `files/${trashed.fileId}/trashed.bin`].sort(),
    );
    expect(JSON.parse(all.get('manifest.json')!.toString()).counts).toMatchObject({ items: 2, files: 2 });

    // As an export made before this fix: the trashed item's file is in it, its item is not.
    const withItems = await makeTar([...[...all].filter(([n]) => n !== 'items.jsonl'), ['items.jsonl', plain.get('items.jsonl')!]]);
    const other = await signUp(sut.app);
    const job = await restore(other.headers, await seal(withItems));
    expect(job).toMatchObject({ status: 'done', result: { imported: { items: 1, files: 1 } } });
    const [item] = await items(other.headers);
    const got = await sut.app.inject({ method: 'GET', url: `/api/files/${item!.fileId}`, headers: other.headers });
    expect(got.statusCode).toBe(200);
    expect(await fileRows(other.user.id)).toBe(1);
    expect(await filesOnDisk(other.user.id)).toBe(1);
  });

  it('keeps every attachment a restored record lists, pointed at the files as stored in the new account', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const [bytesA, bytesB] = [randomBytes(500), randomBytes(700)];
    const record = note({
      kind: 'record',
      source: 'fhir',
      type: 'DocumentReference',
      title: 'Discharge letter',
      fileId: a,
      data: {
        files: [
          { fileId: a, name: 'a.pdf', contentType: 'application/pdf', size: 500 },
          { fileId: b, name: 'b.bin', contentType: 'application/octet-stream', size: 700 },
        ],
      },
    });
    const tarBytes = await makeTar([
      ['manifest.json', manifest({ files: 2, items: 1 })],
      [
        'files.jsonl',
        jsonl([
          { id: a, name: 'a.pdf', contentType: 'application/pdf', size: 500 },
          { id: b, name: 'b.bin', contentType: 'application/octet-stream', size: 700 },
        ]),
      ],
      [`files/${a}/a.pdf`, bytesA],
      [`files/${b}/b.bin`, bytesB],
      ['items.jsonl', jsonl([record])],
    ]);
    const user = await signUp(sut.app);
    expect(await restore(user.headers, await seal(tarBytes))).toMatchObject({ status: 'done', result: { imported: { items: 1, files: 2 } } });
    const [item] = await items(user.headers);
    const listed = (item!.data!.files as Array<{ fileId: string }>).map((f) => f.fileId);
    expect(listed[0]).toBe(item!.fileId);
    expect(listed).not.toContain(a);
    expect(listed).not.toContain(b);
    const second = await sut.app.inject({ method: 'GET', url: `/api/files/${listed[1]}`, headers: user.headers });
    expect(second.statusCode).toBe(200);
    expect(second.rawPayload.equals(bytesB)).toBe(true);
    expect(await fileRows(user.user.id)).toBe(2);
  });

  it('a restore cut short after the files takes back the files no item uses, and its result counts what its message says', async () => {
    const fileIds = [randomUUID(), randomUUID(), randomUUID()];
    const folder = { id: randomUUID(), name: 'Befunde', parentId: null };
    const head: Array<[string, Buffer | string]> = [
      ['manifest.json', manifest({ files: 3, folders: 1, items: 3 })],
      ['files.jsonl', jsonl(fileIds.map((f, i) => ({ id: f, name: `f${i}.bin`, contentType: 'application/octet-stream', size: 4000 })))],
      ...fileIds.map((f, i): [string, Buffer] => [`files/${f}/f${i}.bin`, randomBytes(4000)]),
      ['folders.jsonl', jsonl([folder])],
    ];
    const items3 = fileIds.map((f, i) => note({ kind: 'document', source: 'upload', type: 'application/octet-stream', title: `f${i}`, fileId: f }));
    const before = await makeTar(head, false);
    const whole = await makeTar([...head, ['items.jsonl', jsonl(items3)]]);
    // Cut inside the items entry's header: the files and the folder were read, no item was.
    const cut = whole.subarray(0, before.length + 100);
    const user = await signUp(sut.app);
    const logsBefore = sut.logs().length;
    const job = await restore(user.headers, await seal(cut));
    expect(job.status).toBe('failed');
    expect(job.errorCode).not.toBe('server_fault');
    expect(job.error).toBe('The export is damaged or truncated; what was read before the damage was kept (1 folders).');
    expect(job.result?.imported).toEqual({ folders: 1 });
    expect(await fileRows(user.user.id)).toBe(0);
    expect(await filesOnDisk(user.user.id)).toBe(0);
    expect(sut.logs().slice(logsBefore)).not.toMatch(/"level":50/);

    // Importing the whole export afterwards restores everything, into the folder kept.
    expect(await restore(user.headers, await seal(whole))).toMatchObject({ status: 'done', result: { imported: { items: 3, files: 3 } } });
    expect(await fileRows(user.user.id)).toBe(3);
  });

  it('restores each item’s own created and updated times, and the restore time where they are not real instants', async () => {
    const user = await signUp(sut.app);
    const good = note({ title: 'Old note' });
    const bad = note({ title: 'Odd times', createdAt: 'not a date', updatedAt: '3000-01-01T00:00:00.000Z' });
    const backwards = note({ title: 'Backwards', createdAt: '2022-02-02T00:00:00.000Z', updatedAt: '2020-01-01T00:00:00.000Z' });
    const started = Date.now();
    const job = await restore(
      user.headers,
      await seal(
        await makeTar([
          ['manifest.json', manifest()],
          ['items.jsonl', jsonl([good, bad, backwards])],
        ]),
      ),
    );
    expect(job).toMatchObject({ status: 'done', result: { imported: { items: 3 } } });
    const list = await items(user.headers);
    const by = (t: string) => list.find((i) => i.title === t)!;
    expect(by('Old note')).toMatchObject({ createdAt: good.createdAt, updatedAt: good.updatedAt });
    expect(by('Backwards')).toMatchObject({ createdAt: backwards.createdAt, updatedAt: backwards.createdAt });
    expect(Date.parse(by('Odd times').createdAt)).toBeGreaterThanOrEqual(started - 1000);
    // Undated items list by when they were made: the restored ones by their own time.
    expect(list.map((i) => i.title)).toEqual(['Odd times', 'Backwards', 'Old note']);
    // A search within dates finds an undated item by its own time too (postings copy it).
    const search = await sut.app.inject({ method: 'GET', url: '/api/search?q=text&from=2021-01-01&to=2021-12-31', headers: user.headers });
    expect(search.statusCode, search.body).toBe(200);
    expect((search.json().results as Array<{ item: Item }>).map((r) => r.item.title)).toEqual(['Old note']);
  });

  it('a line of any section that is valid JSON but not a valid record fails the job as an invalid export naming the line, not as a server fault', async () => {
    const fileId = randomUUID();
    const cases: Array<[string, Array<[string, Buffer | string]>, RegExp]> = [
      ['items', [['items.jsonl', jsonl([note(), note({ kind: 'weird' })])]], /^Line 2 of items\.jsonl is not a valid item \(kind: /],
      ['files', [['files.jsonl', jsonl([{ id: fileId, name: '', contentType: 'x/y', size: 1 }])]], /^Line 1 of files\.jsonl is not a valid file \(name: /],
      ['folders', [['folders.jsonl', `\n${jsonl([{ id: 'x', parentId: null }])}`]], /^Line 2 of folders\.jsonl is not a valid folder \(name: /],
      ['chats', [['chats.jsonl', jsonl([{ id: 'c', title: 't', messages: [{ role: 'robot' }] }])]], /^Line 1 of chats\.jsonl is not a valid chat/],
      ['series', [['series/HR.jsonl', jsonl([{ v: 2 }])]], /^Line 1 of series\/HR\.jsonl is not a valid day of samples/],
      ['preferences', [['preferences.jsonl', jsonl([{ cards: 'all of them' }])]], /^Line 1 of preferences\.jsonl is not a valid preferences line/],
      ['title over 500', [['items.jsonl', jsonl([note({ title: 'x'.repeat(100_000) })])]], /^Line 1 of items\.jsonl is not a valid item \(title: /],
      [
        '33 tags',
        [['items.jsonl', jsonl([note({ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })])]],
        /^Line 1 of items\.jsonl is not a valid item \(tags: /,
      ],
      [
        'a note over 1,000,000 characters',
        [['items.jsonl', jsonl([note({ text: 'x'.repeat(1_000_001) })])]],
        /^Line 1 of items\.jsonl is not a valid item \(text: /,
      ],
      ['not JSON', [['items.jsonl', `${JSON.stringify(note())}\n{nope\n`]], /^The export contains a line that is not valid JSON \(line 2 of items\.jsonl\)/],
    ];
    const logsBefore = sut.logs().length;
    for (const [what, entries, message] of cases) {
      const user = await signUp(sut.app);
      const job = await restore(user.headers, await seal(await makeTar([['manifest.json', manifest()], ...entries])));
      expect(job.status, what).toBe('failed');
      expect(job.errorCode, what).not.toBe('server_fault');
      expect(job.error, what).toMatch(message);
      expect(job.error, what).not.toMatch(/x{100}/);
    }
    expect(sut.logs().slice(logsBefore)).not.toMatch(/"level":50/);
    expect(sut.logs().slice(logsBefore)).not.toMatch(/ZodError/);

    // What the API accepts comes back: a 500-character title, a document's text past a note's limit.
    const user = await signUp(sut.app);
    const long = note({ title: 'y'.repeat(500) });
    const doc = note({ kind: 'document', source: 'upload', type: 'text/plain', title: 'Big text', text: 'z'.repeat(1_500_000) });
    expect(
      await restore(
        user.headers,
        await seal(
          await makeTar([
            ['manifest.json', manifest()],
            ['items.jsonl', jsonl([long, doc])],
          ]),
        ),
      ),
    ).toMatchObject({ status: 'done', result: { imported: { items: 2 } } });
  });

  it('re-importing an export into the account it came from imports nothing, and says so', async () => {
    const owner = await signUp(sut.app);
    const h = owner.headers;
    await upload(h, 'scan.bin', randomBytes(1000));
    expect((await sut.app.inject({ method: 'POST', url: '/api/items', headers: h, payload: { title: 'A note', text: 'x' } })).statusCode).toBe(201);
    const folder = await sut.app.inject({ method: 'POST', url: '/api/folders', headers: h, payload: { name: 'Docs' } });
    expect(folder.statusCode).toBe(201);
    // Chats and series come in through an import of a hand-made export, as in export.int.test.ts.
    const chunk = {
      v: 1,
      type: 'HKQuantityTypeIdentifierHeartRate',
      date: '2026-03-04',
      unit: 'count/min',
      sources: ['Watch'],
      samples: [[Date.parse('2026-03-04T08:00:00Z'), 0, 61, 0]],
      stats: { count: 1, min: 61, max: 61, mean: 61, sum: 61 },
    };
    const chat = { id: randomUUID(), title: 'Chat', messages: [{ role: 'user', text: 'Hi', sources: [], createdAt: '2026-01-02T10:00:00.000Z' }] };
    const seed = await makeTar([
      ['manifest.json', manifest()],
      ['chats.jsonl', jsonl([chat])],
      [`series/${chunk.type}.jsonl`, jsonl([chunk])],
    ]);
    expect(await restore(h, await seal(seed))).toMatchObject({ status: 'done', result: { imported: { chats: 1, series: 1 } } });
    expect(await restore(h, await seal(seed))).toEqual(expect.objectContaining({ status: 'done', result: { imported: {} } }));

    const exp = await exportOf(h);
    const counts = JSON.parse((await untar(await open(exp))).get('manifest.json')!.toString()).counts;
    expect(counts).toMatchObject({ items: 2, files: 1, folders: 1, chats: 1, series: 1 });
    expect(await restore(h, exp)).toEqual(expect.objectContaining({ status: 'done', result: { imported: {} } }));
    // Into a new account everything is new, and then nothing is.
    const other = await signUp(sut.app);
    expect(await restore(other.headers, exp)).toEqual(
      expect.objectContaining({ status: 'done', result: { imported: { items: 2, files: 1, folders: 1, chats: 1, series: 1 } } }),
    );
    expect(await restore(other.headers, exp)).toEqual(expect.objectContaining({ status: 'done', result: { imported: {} } }));
  });

  it('a restored record is the same record to its source: importing the source again adds nothing, before or after the restore', async () => {
    const bundle = JSON.stringify({
      resourceType: 'Bundle',
      type: 'collection',
      entry: ['imm-1.json', 'observation-cbc-hemoglobin.json', 'medicationrequest-self-tylenol.json'].map((f) => ({
        resource: JSON.parse(readFileSync(new URL(`../../integrations/fhir/fixtures/${f}`, import.meta.url), 'utf8')) as unknown,
      })),
    });
    const owner = await signUp(sut.app);
    expect((await importFhir(sut.app, owner.headers, bundle)).status).toBe('done');
    const exp = await exportOf(owner.headers);
    const titles = async (h: Headers) => (await items(h)).map((i) => i.title).sort();
    const imported = await titles(owner.headers);
    expect(imported.length).toBeGreaterThanOrEqual(3);

    // Restored into a new account (a move to another server), then the source imported again.
    const moved = await signUp(sut.app);
    expect((await restore(moved.headers, exp)).status).toBe('done');
    expect(await importFhir(sut.app, moved.headers, bundle)).toMatchObject({ status: 'done', result: { imported: {} } });
    expect(await titles(moved.headers)).toEqual(imported);
    // The source imported first, then the backup restored.
    const both = await signUp(sut.app);
    expect((await importFhir(sut.app, both.headers, bundle)).status).toBe('done');
    expect(await restore(both.headers, exp)).toMatchObject({ status: 'done', result: { imported: {} } });
    expect(await titles(both.headers)).toEqual(imported);
  });

  it('an older export never replaces what changed since; a newer one keeps what it replaces in the history', async () => {
    const owner = await signUp(sut.app);
    const h = owner.headers;
    const created = await sut.app.inject({ method: 'POST', url: '/api/items', headers: h, payload: { title: 'Plan', text: 'first text' } });
    expect(created.statusCode).toBe(201);
    const older = await exportOf(h);
    const edit = await sut.app.inject({ method: 'PATCH', url: `/api/items/${created.json().id}`, headers: h, payload: { text: 'second text' } });
    expect(edit.statusCode, edit.body).toBe(200);
    const newer = await exportOf(h);
    const texts = async (hh: Headers) => (await items(hh)).map((i) => (i as Item & { text: string }).text);

    const newerFirst = await signUp(sut.app);
    expect(await restore(newerFirst.headers, newer)).toMatchObject({ status: 'done', result: { imported: { items: 1 } } });
    expect(await restore(newerFirst.headers, older)).toMatchObject({ status: 'done', result: { imported: {} } });
    expect(await texts(newerFirst.headers)).toEqual(['second text']);
    expect((await sut.app.inject({ method: 'GET', url: '/api/search?q=second', headers: newerFirst.headers })).json().results).toHaveLength(1);

    const olderFirst = await signUp(sut.app);
    expect(await restore(olderFirst.headers, older)).toMatchObject({ status: 'done', result: { imported: { items: 1 } } });
    expect(await restore(olderFirst.headers, newer)).toMatchObject({ status: 'done', result: { imported: { items: 1 } } });
    expect(await restore(olderFirst.headers, older)).toMatchObject({ status: 'done', result: { imported: {} } });
    const [item] = await items(olderFirst.headers);
    expect((item as Item & { text: string }).text).toBe('second text');
    const was = await sut.app.inject({ method: 'GET', url: `/api/items/${item!.id}/versions/1`, headers: olderFirst.headers });
    expect(was.statusCode, was.body).toBe(200);
    expect(was.json().text).toBe('first text');
  });

  it('keeps two sibling folders of one name apart through a re-import (an export made before names were unique per parent)', async () => {
    const user = await signUp(sut.app);
    const first = { id: randomUUID(), name: 'Medical 🏥', parentId: null };
    const second = { id: randomUUID(), name: 'Medical 🏥', parentId: null };
    const labs = { id: randomUUID(), name: 'Labs', parentId: second.id };
    const archive = await seal(
      await makeTar([
        ['manifest.json', manifest()],
        ['folders.jsonl', jsonl([first, second, labs])],
        ['items.jsonl', jsonl([note({ title: 'In the first', folderId: first.id }), note({ title: 'In the second', folderId: second.id })])],
      ]),
    );
    const shape = async () => {
      const folders = (await sut.app.inject({ method: 'GET', url: '/api/folders', headers: user.headers })).json().folders as Array<{
        id: string;
        name: string;
        parentId: string | null;
      }>;
      const byId = new Map(folders.map((f) => [f.id, f]));
      const path = (f: { name: string; parentId: string | null }): string => (f.parentId ? `${path(byId.get(f.parentId)!)}/${f.name}` : f.name);
      const filed = new Map<string, string[]>();
      for (const i of await items(user.headers)) {
        const folderId = (i as Item & { folderId?: string | null }).folderId;
        if (folderId) filed.set(folderId, [...(filed.get(folderId) ?? []), String(i.title)]);
      }
      return { paths: folders.map(path).sort(), folders: [...filed.values()].map((t) => t.join()).sort() };
    };
    const want = { paths: ['Medical 🏥', 'Medical 🏥', 'Medical 🏥/Labs'], folders: ['In the first', 'In the second'] };
    expect(await restore(user.headers, archive)).toMatchObject({ status: 'done', result: { imported: { folders: 3 } } });
    expect(await shape()).toEqual(want);
    expect((await restore(user.headers, archive)).status).toBe('done');
    expect(await shape()).toEqual(want);
  });

  it('files each item as its own line says when an id repeats, and keeps the items read before a bad line', async () => {
    const user = await signUp(sut.app);
    const folder = { id: randomUUID(), name: 'Letters', parentId: null };
    const first = note({ title: 'First', folderId: folder.id });
    const again = { ...first, title: 'First, again', folderId: null };
    const second = note({ title: 'Second', folderId: folder.id });
    const third = note({ title: 'Third' });
    const job = await restore(
      user.headers,
      await seal(
        await makeTar([
          ['manifest.json', manifest()],
          ['folders.jsonl', jsonl([folder])],
          ['items.jsonl', jsonl([first, again, second, third])],
        ]),
      ),
    );
    expect(job.status, job.error).toBe('done');
    const folders = (await sut.app.inject({ method: 'GET', url: '/api/folders', headers: user.headers })).json().folders as Array<{ id: string }>;
    const inFolder = (await items(user.headers, '/api/items', `folderId=${folders[0]!.id}`)).map((i) => i.title);
    expect(inFolder).toEqual(['Second']);
    expect((await items(user.headers, '/api/items', 'folderId=none')).map((i) => i.title).sort()).toEqual(['First, again', 'Third']);

    const cut = await signUp(sut.app);
    const failed = await restore(
      cut.headers,
      await seal(
        await makeTar([
          ['manifest.json', manifest()],
          ['items.jsonl', jsonl([note({ title: 'Kept one' }), note({ title: 'Kept two' }), note({ kind: 'weird' })])],
        ]),
      ),
    );
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^Line 3 of items\.jsonl/);
    expect((await items(cut.headers)).map((i) => i.title).sort()).toEqual(['Kept one', 'Kept two']);
  });

  it('an age file that opens but holds no tar is not an export, not a damaged one', async () => {
    const user = await signUp(sut.app);
    for (const text of ['text', 'hello, not a tar at all; '.repeat(40)]) {
      const job = await restore(user.headers, await seal(Buffer.from(text)));
      expect(job).toMatchObject({ status: 'failed', error: 'This is not a Context Vault export (the file holds no tar archive).' });
    }
  });
});
