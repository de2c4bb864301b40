import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decrypter, Encrypter } from 'age-encryption';
import { generateAgeIdentity } from '../../crypto/index.js';
import { cookieFrom, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { untar } from '../../test-support/server/export-archive.js';

type Headers = Record<string, string>;
type Item = Record<string, unknown> & { id: string; fileId?: string; tags: string[] };

const HAS_AGE = spawnSync('age', ['--version']).status === 0;

async function makeTar(entries: Array<[string, Buffer | string]>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name }, Buffer.from(body));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const parseJsonl = (b: Buffer | undefined) =>
  (b ?? Buffer.alloc(0))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function allItems(app: FastifyInstance, headers: Headers): Promise<{ live: Item[]; trash: Item[] }> {
  const page = async (url: string) => {
    const out: Item[] = [];
    let cursor: string | null = null;
    do {
      const r = await app.inject({ method: 'GET', url: `${url}?limit=200${cursor ? `&cursor=${cursor}` : ''}`, headers });
      expect(r.statusCode).toBe(200);
      const b = r.json() as { items: Item[]; nextCursor: string | null };
      out.push(...b.items);
      cursor = b.nextCursor;
    } while (cursor);
    return out;
  };
  return { live: await page('/api/items'), trash: await page('/api/trash') };
}

async function waitJob(app: FastifyInstance, headers: Headers, jobId: string) {
  for (let i = 0; i < 600; i++) {
    const r = await app.inject({ method: 'GET', url: `/api/jobs/${jobId}`, headers });
    const job = r.json() as { status: string; error?: string; result?: { imported: Record<string, number> } };
    if (job.status === 'done' || job.status === 'failed') return job;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('job did not finish');
}

/** What must survive a round trip: everything but ids and timestamps of this server (folders by path). */
const comparable = (i: Item, paths: Map<string, string> = new Map()) => {
  const { id: _id, createdAt: _c, updatedAt: _u, fileId, folderId, ...rest } = i as Item & { folderId?: string | null };
  return { ...rest, hasFile: fileId !== undefined, tags: [...i.tags].sort(), folder: folderId ? paths.get(folderId) : null };
};

/** Each folder id mapped to its path of names ("Health/Labs"). */
async function folderPaths(app: FastifyInstance, headers: Headers): Promise<Map<string, string>> {
  const { folders } = (await app.inject({ method: 'GET', url: '/api/folders', headers })).json() as {
    folders: Array<{ id: string; name: string; parentId: string | null }>;
  };
  const byId = new Map(folders.map((f) => [f.id, f]));
  const pathOf = (id: string): string => {
    const f = byId.get(id)!;
    return f.parentId ? `${pathOf(f.parentId)}/${f.name}` : f.name;
  };
  return new Map(folders.map((f) => [f.id, pathOf(f.id)]));
}
const byTitle = (a: object, b: object) => String((a as { title?: unknown }).title).localeCompare(String((b as { title?: unknown }).title));

describe.each(dbTargets())('export, re-import and account deletion (%s)', (target) => {
  let sut: TestServer;
  let work: string;
  let owner: Awaited<ReturnType<typeof signUp>>;
  const files = new Map<string, Buffer>();
  const chatSeed = {
    id: '11111111-2222-4333-8444-555555555555',
    title: 'Cholesterol follow-up',
    messages: [
      { role: 'user', text: 'What was my LDL?', sources: [], createdAt: '2026-01-02T10:00:00.000Z' },
      {
        role: 'assistant',
        text: 'Your LDL was 130 mg/dL [1].',
        sources: [{ n: 1, itemId: null, title: 'Lipid panel', kind: 'record', occurredAt: '2025-12-01T00:00:00.000Z' }],
        createdAt: '2026-01-02T10:00:01.000Z',
      },
    ],
  };
  const chunk = {
    v: 1,
    type: 'HKQuantityTypeIdentifierHeartRate',
    date: '2026-03-04',
    unit: 'count/min',
    sources: ['Watch'],
    samples: [
      [Date.parse('2026-03-04T08:00:00Z'), 0, 61, 0],
      [Date.parse('2026-03-04T08:05:00Z'), 0, 75, 0],
    ],
    stats: { count: 2, min: 61, max: 75, mean: 68, sum: 136 },
  };

  beforeAll(async () => {
    sut = await startTestServer(target, { RATE_LIMIT_EXPORT_PER_HOUR: '1000' });
    work = await mkdtemp(path.join(tmpdir(), 'cv-export-test-'));
    owner = await signUp(sut.app);
    const h = owner.headers;
    const post = (payload: object) => sut.app.inject({ method: 'POST', url: '/api/items', headers: h, payload });
    expect((await post({ title: 'Grocery list', text: 'oat milk, lentils', tags: ['Home', 'list'] })).statusCode).toBe(201);
    const bp = await post({ title: 'Blutdruck – Müller 🩺', text: 'Line one\nline "two"\ttab', tags: ['Ärzte'], occurredAt: '2024-02-29T12:30:00.000Z' });
    expect(bp.statusCode).toBe(201);
    // Folders nested two deep, one holding an item: export and re-import keep both.
    const health = (await sut.app.inject({ method: 'POST', url: '/api/folders', headers: h, payload: { name: 'Gesundheit' } })).json();
    const labs = (await sut.app.inject({ method: 'POST', url: '/api/folders', headers: h, payload: { name: 'Labor / 2024', parentId: health.id } })).json();
    expect((await sut.app.inject({ method: 'PATCH', url: `/api/items/${bp.json().id}`, headers: h, payload: { folderId: labs.id } })).statusCode).toBe(200);
    const trashed = await post({ title: 'Old draft', text: 'to the trash' });
    expect((await sut.app.inject({ method: 'DELETE', url: `/api/items/${trashed.json().id}`, headers: h })).statusCode).toBe(204);
    for (const [name, type, data] of [
      ['scan of lab results.bin', 'application/octet-stream', randomBytes(300_000)],
      ['notes.txt', 'text/plain', Buffer.from('plain text file\n'.repeat(100))],
      ['empty.txt', 'text/plain', Buffer.alloc(0)],
    ] as const) {
      const up = await sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name, type, data: Buffer.from(data) }, { tags: 'files' }, h) });
      expect(up.statusCode).toBe(201);
      files.set(up.json().fileId, Buffer.from(data));
    }
    // Chats and series have no write route a test can drive without a model; seed them through
    // an import of a hand-made export (which also proves the importer reads a foreign tar).
    const seed = await makeTar([
      ['manifest.json', JSON.stringify({ format: 'context-vault-export', version: 1, created: new Date().toISOString(), counts: {} })],
      ['chats.jsonl', jsonl([chatSeed])],
      [`series/${chunk.type}.jsonl`, jsonl([chunk])],
    ]);
    const enc = new Encrypter();
    enc.setPassphrase('seed passphrase 123');
    const sealed = Buffer.from(await enc.encrypt(seed));
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'seed.age', type: 'application/octet-stream', data: sealed }, { passphrase: 'seed passphrase 123' }, h),
    });
    expect(imp.statusCode).toBe(202);
    const job = await waitJob(sut.app, h, imp.json().jobId);
    expect(job).toMatchObject({ status: 'done', result: { imported: { chats: 1, series: 1 } } });
  });

  afterAll(async () => {
    await sut?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(!HAS_AGE)('exports to an age recipient that the age tool opens, with every item and file byte for byte', async () => {
    const id = await generateAgeIdentity();
    const idFile = path.join(work, 'key.txt');
    await writeFile(idFile, `${id.identity}\n`, { mode: 0o600 });
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { recipient: id.recipient, includeTrash: true } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="context-vault-export-\d{4}-\d{2}-\d{2}\.age"$/);
    expect(res.rawPayload.subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const dec = spawnSync('age', ['-d', '-i', idFile], { input: res.rawPayload, maxBuffer: 1 << 30 });
    expect(dec.stderr.toString()).toBe('');
    expect(dec.status).toBe(0);
    const entries = await untar(dec.stdout);

    const names = [...entries.keys()];
    expect(names[0]).toBe('manifest.json');
    expect(names.indexOf('files.jsonl')).toBeLessThan(names.indexOf('items.jsonl'));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    expect(manifest).toMatchObject({
      format: 'context-vault-export',
      version: 1,
      includesTrash: true,
      counts: { items: 6, files: 3, folders: 2, chats: 1, series: 1 },
    });
    expect(names.indexOf('folders.jsonl')).toBeLessThan(names.indexOf('items.jsonl'));
    expect(parseJsonl(entries.get('folders.jsonl')).map((f) => f.name)).toEqual(['Gesundheit', 'Labor / 2024']);

    const { live, trash } = await allItems(sut.app, owner.headers);
    const exported = parseJsonl(entries.get('items.jsonl'));
    expect(exported).toHaveLength(live.length + trash.length);
    for (const item of live) expect(exported.find((e) => e.id === item.id)).toEqual({ ...item, deletedAt: null });
    for (const item of trash) expect(exported.find((e) => e.id === item.id)).toMatchObject({ ...item, deletedAt: expect.any(String) });

    const fileMeta = parseJsonl(entries.get('files.jsonl'));
    expect(fileMeta).toHaveLength(files.size);
    for (const [fileId, bytes] of files) {
      const meta = fileMeta.find((f) => f.id === fileId)!;
      expect(meta.size).toBe(bytes.length);
      expect(entries.get(`files/${fileId}/${String(meta.name)}`)!.equals(bytes)).toBe(true);
    }
    const chats = parseJsonl(entries.get('chats.jsonl'));
    expect(chats).toHaveLength(1);
    expect(chats[0]).toMatchObject({ title: chatSeed.title, messages: chatSeed.messages });
    expect(parseJsonl(entries.get(`series/${chunk.type}.jsonl`))).toEqual([chunk]);

    // The age tool refuses a wrong key and a truncated file alike.
    const other = await generateAgeIdentity();
    await writeFile(idFile, `${other.identity}\n`);
    expect(spawnSync('age', ['-d', '-i', idFile], { input: res.rawPayload }).status).not.toBe(0);
    await writeFile(idFile, `${id.identity}\n`);
    expect(spawnSync('age', ['-d', '-i', idFile], { input: res.rawPayload.subarray(0, res.rawPayload.length - 100) }).status).not.toBe(0);
  });

  it('re-imports a passphrase export into a new account as it was, and a second import changes nothing', async () => {
    const passphrase = `export ${randomBytes(8).toString('hex')}`;
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { passphrase } });
    expect(res.statusCode).toBe(200);
    // The header names the scrypt recipient at the age tool's own work factor.
    expect(res.rawPayload.subarray(0, 200).toString('latin1')).toMatch(/-> scrypt \S+ 18\n/);
    const plain = Buffer.from(
      await (() => {
        const d = new Decrypter();
        d.addPassphrase(passphrase);
        return d.decrypt(new Uint8Array(res.rawPayload));
      })(),
    );
    const tarEntries = await untar(plain);
    // Trash is left out unless asked for, and the manifest says so.
    expect(JSON.parse(tarEntries.get('manifest.json')!.toString())).toMatchObject({ includesTrash: false, counts: { items: 5 } });
    expect(parseJsonl(tarEntries.get('items.jsonl')).some((i) => i.deletedAt)).toBe(false);

    const other = await signUp(sut.app);
    const upload = (key: Record<string, string>) =>
      sut.app.inject({
        method: 'POST',
        url: '/api/import/export',
        ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: res.rawPayload }, key, other.headers),
      });

    const wrong = await upload({ passphrase: 'not the passphrase' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().error.code).toBe('wrong_key');

    const first = await upload({ passphrase });
    expect(first.statusCode).toBe(202);
    expect(await waitJob(sut.app, other.headers, first.json().jobId)).toMatchObject({ status: 'done' });

    const a = await allItems(sut.app, owner.headers);
    const b = await allItems(sut.app, other.headers);
    const [pa, pb] = [await folderPaths(sut.app, owner.headers), await folderPaths(sut.app, other.headers)];
    expect([...pb.values()].sort()).toEqual(['Gesundheit', 'Gesundheit/Labor / 2024']);
    expect(b.live.map((i) => comparable(i, pb)).sort(byTitle)).toEqual(a.live.map((i) => comparable(i, pa)).sort(byTitle));
    expect(b.live.find((i) => String(i.title).startsWith('Blutdruck'))).toMatchObject({ folderId: expect.any(String) });
    expect(b.trash).toEqual([]);
    for (const item of b.live.filter((i) => i.fileId)) {
      const original = a.live.find((x) => x.title === item.title)!;
      const got = await sut.app.inject({ method: 'GET', url: `/api/files/${item.fileId}`, headers: other.headers });
      expect(got.statusCode).toBe(200);
      expect(got.rawPayload.equals(files.get(original.fileId!)!)).toBe(true);
      expect(got.headers['content-disposition']).toContain(encodeURIComponent(String((original.data as { fileName: string }).fileName)));
    }
    const tags = async (h: Headers) => (await sut.app.inject({ method: 'GET', url: '/api/tags', headers: h })).json();
    expect(await tags(other.headers)).toEqual(await tags(owner.headers));
    const chatOf = async (h: Headers) => {
      const list = (await sut.app.inject({ method: 'GET', url: '/api/chats', headers: h })).json().chats as Array<{ id: string }>;
      return Promise.all(
        list.map(async (c) => {
          const { id: _id, messages, ...rest } = (await sut.app.inject({ method: 'GET', url: `/api/chats/${c.id}`, headers: h })).json();
          // Message ids are new rows in the importing account; everything else is as it was.
          return { ...rest, messages: messages.map(({ id: _m, ...m }: { id: string }) => m) };
        }),
      );
    };
    expect(await chatOf(other.headers)).toEqual(await chatOf(owner.headers));
    const seriesOf = async (h: Headers) => (await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${chunk.type}`, headers: h })).json();
    expect(await seriesOf(other.headers)).toEqual(await seriesOf(owner.headers));
    expect((await seriesOf(other.headers)).days).toHaveLength(1);

    // Importing the same export again, and into the account it came from, duplicates nothing.
    const again = await upload({ passphrase });
    expect(await waitJob(sut.app, other.headers, again.json().jobId)).toMatchObject({ status: 'done' });
    const back = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: res.rawPayload }, { passphrase }, owner.headers),
    });
    expect(await waitJob(sut.app, owner.headers, back.json().jobId)).toMatchObject({ status: 'done' });
    const b2 = await allItems(sut.app, other.headers);
    const a2 = await allItems(sut.app, owner.headers);
    expect(b2.live.length + b2.trash.length).toBe(b.live.length + b.trash.length);
    expect(a2.live.length + a2.trash.length).toBe(a.live.length + a.trash.length);
    expect((await folderPaths(sut.app, other.headers)).size).toBe(2);
    expect((await folderPaths(sut.app, owner.headers)).size).toBe(2);
    expect(await chatOf(other.headers)).toHaveLength(1);
    expect(await chatOf(owner.headers)).toHaveLength(1);
    expect((await seriesOf(other.headers)).days[0].count).toBe(2);
  });

  it('imports with an age identity, and refuses bad requests', async () => {
    const id = await generateAgeIdentity();
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { recipient: id.recipient } });
    const other = await signUp(sut.app);
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart(
        { name: 'vault.age', type: 'application/octet-stream', data: res.rawPayload },
        { identity: `# created: now\n${id.identity}\n` },
        other.headers,
      ),
    });
    expect(imp.statusCode).toBe(202);
    const job = await waitJob(sut.app, other.headers, imp.json().jobId);
    expect(job).toMatchObject({ status: 'done', result: { imported: { items: 5, files: 3, folders: 2, chats: 1, series: 1 } } });

    const bad = (payload: object) => sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload });
    expect((await bad({})).statusCode).toBe(400);
    expect((await bad({ passphrase: 'long enough passphrase', recipient: id.recipient })).statusCode).toBe(400);
    expect((await bad({ recipient: 'age1notarecipient' })).statusCode).toBe(400);
    expect((await bad({ passphrase: 'short' })).statusCode).toBe(400);
    expect((await sut.app.inject({ method: 'POST', url: '/api/export', payload: { passphrase: 'long enough passphrase' } })).statusCode).toBe(401);
    const notAge = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'x.age', type: 'application/octet-stream', data: Buffer.from('hello') }, { passphrase: 'whatever it is' }, other.headers),
    });
    expect(notAge.statusCode).toBe(422);
  });

  it('an intact age file around a tar cut short fails its job as damaged, counting what was kept, and one around no tar as not an export, with no server error', async () => {
    const id = await generateAgeIdentity();
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { recipient: id.recipient } });
    const d = new Decrypter();
    d.addIdentity(id.identity);
    const plain = Buffer.from(await d.decrypt(new Uint8Array(res.rawPayload)));
    const logsBefore = sut.logs().length;
    for (const [what, tarBytes] of [
      ['a tar cut at 60%', plain.subarray(0, Math.floor(plain.length * 0.6))],
      ['not a tar', Buffer.from('hello, not a tar at all; '.repeat(40))],
    ] as const) {
      const enc = new Encrypter();
      enc.addRecipient(id.recipient);
      const sealed = Buffer.from(await enc.encrypt(tarBytes));
      const user = await signUp(sut.app);
      const imp = await sut.app.inject({
        method: 'POST',
        url: '/api/import/export',
        ...multipart({ name: 'cut.age', type: 'application/octet-stream', data: sealed }, { identity: id.identity }, user.headers),
      });
      expect(imp.statusCode, imp.body).toBe(202);
      const job = (await waitJob(sut.app, user.headers, imp.json().jobId)) as { status: string; error?: string; errorCode?: string };
      // Was "an error on the server" (server_fault) with tar-stream's stack in the log.
      expect(job.status, what).toBe('failed');
      // A file that holds no tar at all is not an export (it was reported as damaged).
      expect(job.error, what).toMatch(
        what === 'not a tar' ? /^This is not a Context Vault export/ : /^The export is damaged or truncated; what was read before the damage was kept/,
      );
      expect(job.errorCode, what).not.toBe('server_fault');
      if (what === 'a tar cut at 60%') {
        const kept = (await allItems(sut.app, user.headers)).live.length;
        expect(job.error).toMatch(kept ? new RegExp(`\\(.*${kept} items`) : /kept\.$/);
      }
    }
    expect(sut.logs().slice(logsBefore)).not.toMatch(/"level":50/);
  });

  it('deletes an account with every row and file, after the passphrase', async () => {
    const gone = await signUp(sut.app);
    const h = gone.headers;
    const canary = `canary${randomBytes(6).toString('hex')}`;
    await sut.app.inject({ method: 'POST', url: '/api/items', headers: h, payload: { title: canary, text: canary, tags: [canary] } });
    await sut.app.inject({ method: 'POST', url: '/api/files', ...multipart({ name: `${canary}.txt`, type: 'text/plain', data: Buffer.from(canary) }, {}, h) });
    const id = await generateAgeIdentity();
    const exp = await sut.app.inject({ method: 'POST', url: '/api/export', headers: owner.headers, payload: { recipient: id.recipient } });
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: exp.rawPayload }, { identity: id.identity }, h),
    });
    await waitJob(sut.app, h, imp.json().jobId);
    const second = await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: gone.email, passphrase: gone.passphrase } });
    const secondCookie = cookieFrom(second.headers['set-cookie']);

    const wrong = await sut.app.inject({ method: 'DELETE', url: '/api/account', headers: h, payload: { passphrase: 'not my passphrase' } });
    expect(wrong.statusCode).toBe(401);
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: h })).statusCode).toBe(200);

    const del = await sut.app.inject({ method: 'DELETE', url: '/api/account', headers: h, payload: { passphrase: gone.passphrase } });
    expect(del.statusCode).toBe(204);
    expect(String(del.headers['set-cookie'])).toMatch(/cv_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: h })).statusCode).toBe(401);
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: secondCookie } })).statusCode).toBe(401);
    expect((await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: gone.email, passphrase: gone.passphrase } })).statusCode).toBe(
      401,
    );

    const dump = await sut.dumpDatabase();
    expect(dump).not.toContain(gone.user.id);
    expect(dump).not.toContain(gone.email);
    expect(dump).toMatch(/account_deleted/);
    for (const dir of ['files', 'imports']) {
      const names = await readdir(path.join(sut.dataDir, dir)).catch(() => [] as string[]);
      expect(names).not.toContain(gone.user.id);
    }
    const disk = await sut.dumpDataDir();
    expect(disk.includes(Buffer.from(gone.user.id))).toBe(false);
    // The owner's vault is untouched.
    expect((await allItems(sut.app, owner.headers)).live.length).toBeGreaterThan(0);
  });

  it('serves Prometheus metrics and the OpenAPI documentation', async () => {
    const m = await sut.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toContain('text/plain');
    expect(m.body).toMatch(/cv_http_request_duration_seconds_bucket\{[^}]*route="\/api\/items\/:id"/);
    expect(m.body).toMatch(/cv_exports_total\{status="done"\} \d+/);
    expect(m.body).toMatch(/cv_export_import_jobs_total\{status="done"\} \d+/);
    expect(m.body).not.toContain(owner.user.id);

    const spec = await sut.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    const paths = spec.json().paths as Record<string, unknown>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/api/items', '/api/export', '/api/import/export', '/api/account']));
    const page = await sut.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    // Every script on the page is a file from /docs itself, which the CSP (script-src 'self') allows.
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});

describe('an export larger than MAX_IMPORT_MB', () => {
  it('is refused as too large, not as damaged, and leaves no job or file', async () => {
    const server = await startTestServer('pglite', { MAX_IMPORT_MB: '1' });
    try {
      const user = await signUp(server.app);
      // Random bytes: the export cannot compress them below the limit.
      const up = await server.app.inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name: 'scan.bin', type: 'application/octet-stream', data: randomBytes(1536 * 1024) }, {}, user.headers),
      });
      expect(up.statusCode, up.body).toBe(201);
      const passphrase = 'a long export passphrase';
      const exp = await server.app.inject({ method: 'POST', url: '/api/export', headers: user.headers, payload: { passphrase } });
      expect(exp.statusCode).toBe(200);
      expect(exp.rawPayload.length).toBeGreaterThan(1024 * 1024);
      const imp = await server.app.inject({
        method: 'POST',
        url: '/api/import/export',
        ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: exp.rawPayload }, { passphrase }, user.headers),
      });
      expect(imp.statusCode, imp.body).toBe(413);
      expect(imp.json().error).toEqual({ code: 'too_large', message: 'The export is larger than the 1 MB this server accepts.' });
      expect((await server.app.inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json()).toEqual({ jobs: [] });
      expect(await readdir(path.join(server.dataDir, 'imports', user.user.id)).catch(() => [])).toEqual([]);
    } finally {
      await server.dispose();
    }
  });
});

describe.each(dbTargets())('audit of exports and imports (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('records every export and import in the audit log, with the request id and no content', async () => {
    const user = await signUp(sut.app);
    const id = await generateAgeIdentity();
    const exp = await sut.app.inject({ method: 'POST', url: '/api/export', headers: user.headers, payload: { recipient: id.recipient } });
    expect(exp.statusCode).toBe(200);
    const imp = await sut.app.inject({
      method: 'POST',
      url: '/api/import/export',
      ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: exp.rawPayload }, { identity: id.identity }, user.headers),
    });
    expect(imp.statusCode).toBe(202);
    await waitJob(sut.app, user.headers, imp.json().jobId);
    // Stopped first: a second PGlite over a live data directory would not see the latest writes.
    await sut.stop();
    const dump = await sut.dumpDatabase();
    const audit = dump.split('-- audit_log\n')[1]!.split('\n-- ')[0]!.split('\n');
    const mine = audit.filter((row) => row.includes(user.user.id));
    // (id,user_id,action,request_id,created_at): a request id in every row, nothing else.
    expect(mine.filter((row) => /,export,[^,]+,/.test(row))).toHaveLength(1);
    expect(mine.filter((row) => /,import,[^,]+,/.test(row))).toHaveLength(1);
    expect(dump).not.toContain(id.identity);
  });
});
