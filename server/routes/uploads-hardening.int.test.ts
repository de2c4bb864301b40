import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../test-support/integrations/fitbit/archive-writer.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

type User = Awaited<ReturnType<typeof signUp>>;

/** Every route that takes a multipart upload. */
const UPLOAD_ROUTES = ['/api/files', '/api/import/apple-health', '/api/import/fitbit', '/api/import/export'] as const;

const BOUNDARY = 'cvbadmultipart0123';
const part = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const fileHead = (name = 'file', filename = 'x.txt') =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;

/** A hand-written multipart body (the harness's helper always writes the fields first). */
const body = (...chunks: (string | Buffer)[]) => Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));

/** Bodies busboy cannot read: each must be a 400 `bad_multipart` on every upload route. */
const MALFORMED: [string, string, (fields: string, file: Buffer) => Buffer][] = [
  ['garbage with a boundary', `multipart/form-data; boundary=xyz`, () => Buffer.from('garbage')],
  ['no boundary in the content type', 'multipart/form-data', (fields, file) => body(fields, fileHead(), file, '\r\n', `--${BOUNDARY}--\r\n`)],
  // The body ends in the middle of the file part (a file the route would take): no closing boundary.
  [
    'a truncated file part',
    `multipart/form-data; boundary=${BOUNDARY}`,
    (fields, file) => body(fields, fileHead(), file.subarray(0, Math.floor(file.length / 2))),
  ],
  // The body ends inside a part's headers.
  ['a truncated part header', `multipart/form-data; boundary=${BOUNDARY}`, (fields) => body(fields, `--${BOUNDARY}\r\nContent-Disposition: form-da`)],
];

/** Files under the data directory other than the database's own: uploads, imports, temp files. */
async function storedFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (dir === dataDir && e.name === 'pg') continue;
        await walk(p);
      } else out.push(path.relative(dataDir, p));
    }
  };
  await walk(dataDir);
  return out.sort();
}

/**
 * The data directory once it is back to `expected`: a failed write removes its temp file in the
 * store's stream teardown, which may finish just after the response.
 */
async function settledFiles(dataDir: string, expected: string[]): Promise<string[]> {
  let now = await storedFiles(dataDir);
  for (let i = 0; i < 40 && now.join('\n') !== expected.join('\n'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await storedFiles(dataDir);
  }
  return now;
}

describe.each(dbTargets())('upload and input hardening (%s)', (target) => {
  let sut: TestServer;
  let user: User;
  let exportFile: Buffer;
  const EXPORT_PASSPHRASE = 'export passphrase 123';
  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
    const res = await sut.app.inject({ method: 'POST', url: '/api/export', headers: user.headers, payload: { passphrase: EXPORT_PASSPHRASE } });
    expect(res.statusCode).toBe(200);
    exportFile = res.rawPayload;
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  /** The fields each route needs before its file (the export import refuses a file with no key first). */
  const fieldsFor = (url: string) => (url === '/api/import/export' ? part('passphrase', EXPORT_PASSPHRASE) : '');
  /** A file each route takes (an archive the imports recognise, the export the import opens). */
  const zip = buildZip([{ name: 'apple_health_export/export.xml', data: randomBytes(60_000).toString('hex') }]);
  const fileFor = (url: string) => (url === '/api/import/export' ? exportFile : zip);
  const post = (url: string, contentType: string, payload: Buffer, u: User = user) =>
    sut.app.inject({ method: 'POST', url, headers: { ...u.headers, 'content-type': contentType }, payload });
  const items = async (u: User) => (await sut.app.inject({ method: 'GET', url: '/api/items', headers: u.headers })).json().items as { tags: string[] }[];
  const jobs = async (u: User) => (await sut.app.inject({ method: 'GET', url: '/api/jobs', headers: u.headers })).json().jobs as unknown[];
  /** What the server logged since `from`: nothing at error level, no stack or module paths. */
  const expectQuietLog = (from: number) => {
    const lines = sut.logs().slice(from);
    expect(lines).not.toMatch(/"level":5\d/);
    expect(lines).not.toContain('unhandled error');
    expect(lines).not.toContain('node_modules');
    expect(lines).not.toMatch(/Boundary not found|Unexpected end of/);
  };
  const expectStillServes = async (u: User) => {
    const ok = await post(
      '/api/files',
      `multipart/form-data; boundary=${BOUNDARY}`,
      body(fileHead('file', 'after.txt'), `still works ${u.email}\r\n`, `--${BOUNDARY}--\r\n`),
      u,
    );
    expect(ok.statusCode, ok.body).toBe(201);
  };

  describe.each(UPLOAD_ROUTES)('%s', (url) => {
    it.each(MALFORMED)('answers 400 bad_multipart to %s, keeps nothing and logs no error', async (_what, contentType, make) => {
      const u = await signUp(sut.app);
      const before = await storedFiles(sut.dataDir);
      const from = sut.logs().length;
      const res = await post(url, contentType, make(fieldsFor(url), fileFor(url)), u);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'bad_multipart', message: expect.any(String) } });
      expect(res.body).not.toMatch(/busboy|node_modules|Multipart:/);
      expectQuietLog(from);
      expect(await items(u)).toEqual([]);
      expect(await jobs(u)).toEqual([]);
      expect(await settledFiles(sut.dataDir, before)).toEqual(before);
      await expectStillServes(u);
    });
  });

  describe('fields after the file', () => {
    const fileThen = (file: Buffer, filename: string, before: string, after: string) =>
      body(before, fileHead('file', filename), file, '\r\n', after, `--${BOUNDARY}--\r\n`);
    const CT = `multipart/form-data; boundary=${BOUNDARY}`;

    it('POST /api/files: tags after the file is a 400 field_after_file and stores nothing', async () => {
      const u = await signUp(sut.app);
      const before = await storedFiles(sut.dataDir);
      const res = await post('/api/files', CT, fileThen(Buffer.from('late tags'), 'late.txt', '', part('tags', 'a,b')), u);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('field_after_file');
      expect(res.json().error.message).toContain('"tags"');
      expect(await items(u)).toEqual([]);
      expect(await settledFiles(sut.dataDir, before)).toEqual(before);
      await expectStillServes(u);
    });

    it('POST /api/files: tags before the file, as a JSON array or a comma list; other fields anywhere are ignored', async () => {
      const u = await signUp(sut.app);
      const json = await post('/api/files', CT, fileThen(Buffer.from('json tags'), 'a.txt', part('tags', '["a, 1","b"]'), part('note', 'ignored')), u);
      expect(json.statusCode, json.body).toBe(201);
      expect(json.json().tags).toEqual(['a, 1', 'b']);
      const comma = await post('/api/files', CT, fileThen(Buffer.from('comma tags'), 'b.txt', part('tags', ' x, y,,z '), ''), u);
      expect(comma.statusCode, comma.body).toBe(201);
      expect(comma.json().tags).toEqual(['x', 'y', 'z']);
      const bad = await post('/api/files', CT, fileThen(Buffer.from('bad tags'), 'c.txt', part('tags', '["a", 1]'), ''), u);
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().error.code).toBe('invalid_request');
      const nul = await post('/api/files', CT, fileThen(Buffer.from('nul tags'), 'd.txt', part('tags', 'a\u0000b'), ''), u);
      expect(nul.statusCode, nul.body).toBe(400);
      expect(nul.json().error.code).toBe('invalid_request');
      expect((await items(u)).map((i) => i.tags).sort()).toEqual([
        ['a, 1', 'b'],
        ['x', 'y', 'z'],
      ]);
    });

    it('POST /api/import/fitbit: timezone after the archive is a 400 field_after_file and starts no job; before it is accepted', async () => {
      const u = await signUp(sut.app);
      const zip = buildZip([
        { name: 'Takeout/Fitbit/Global Export Data/steps-2024-03-10.json', data: JSON.stringify([{ dateTime: '03/10/24 04:30:00', value: '40' }]) },
      ]);
      const before = await storedFiles(sut.dataDir);
      const late = await post('/api/import/fitbit', CT, fileThen(zip, 'takeout.zip', '', part('timezone', 'America/New_York')), u);
      expect(late.statusCode, late.body).toBe(400);
      expect(late.json().error.code).toBe('field_after_file');
      expect(await jobs(u)).toEqual([]);
      expect(await settledFiles(sut.dataDir, before)).toEqual(before);
      const early = await post('/api/import/fitbit', CT, fileThen(zip, 'takeout.zip', part('timezone', 'America/New_York'), ''), u);
      expect(early.statusCode, early.body).toBe(202);
    });

    it('POST /api/import/export: a key field after the file is refused, as before (missing_key) or as field_after_file', async () => {
      const u = await signUp(sut.app);
      const onlyAfter = await post('/api/import/export', CT, fileThen(exportFile, 'vault.age', '', part('passphrase', EXPORT_PASSPHRASE)), u);
      expect(onlyAfter.statusCode, onlyAfter.body).toBe(400);
      expect(onlyAfter.json().error.code).toBe('missing_key');
      const alsoAfter = await post(
        '/api/import/export',
        CT,
        fileThen(exportFile, 'vault.age', part('passphrase', EXPORT_PASSPHRASE), part('identity', 'AGE-SECRET-KEY-1')),
        u,
      );
      expect(alsoAfter.statusCode, alsoAfter.body).toBe(400);
      expect(alsoAfter.json().error.code).toBe('field_after_file');
      expect(await jobs(u)).toEqual([]);
      const ok = await sut.app.inject({
        method: 'POST',
        url: '/api/import/export',
        ...multipart({ name: 'vault.age', type: 'application/octet-stream', data: exportFile }, { passphrase: EXPORT_PASSPHRASE }, u.headers),
      });
      expect(ok.statusCode, ok.body).toBe(202);
    });

    it('POST /api/import/apple-health reads no fields: one after the file is ignored', async () => {
      const u = await signUp(sut.app);
      const xml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n</HealthData>\n');
      const res = await post('/api/import/apple-health', CT, fileThen(xml, 'export.xml', '', part('timezone', 'Europe/Paris')), u);
      expect(res.statusCode, res.body).toBe(202);
    });
  });

  describe('U+0000 in input', () => {
    it.each([
      ['GET /api/items?type=%00', 'GET', '/api/items?type=%00'],
      ['GET /api/items?type=a%00b', 'GET', '/api/items?type=a%00b'],
      ['GET /api/records/series?type=%00', 'GET', '/api/records/series?type=%00&from=2024-01-01&to=2024-01-02'],
      ['GET /api/search?q=a%00', 'GET', '/api/search?q=a%00'],
      ['GET /api/items/%00', 'GET', '/api/items/%00'],
    ])('%s is a 400 invalid_request', async (_what, method, url) => {
      const from = sut.logs().length;
      const res = await sut.app.inject({ method: method as 'GET', url, headers: user.headers });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
      expectQuietLog(from);
      expect((await sut.app.inject({ method: 'GET', url: '/api/items?type=note', headers: user.headers })).statusCode).toBe(200);
    });

    it('refuses U+0000 anywhere in a JSON body (values and keys) and keeps other control characters', async () => {
      const from = sut.logs().length;
      for (const payload of [{ title: 'a\u0000b' }, { title: 'ok', text: '\u0000' }, { title: 'ok', tags: ['fine', 'x\u0000'] }]) {
        const res = await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error.code).toBe('invalid_request');
        expect(res.json().error.message).toMatch(/NUL/);
      }
      const raw = await sut.app.inject({
        method: 'POST',
        url: '/api/items',
        headers: { ...user.headers, 'content-type': 'application/json' },
        payload: '{"title":"ok","text":"x","tags":["t"],"\\u0000":1}',
      });
      expect(raw.statusCode, raw.body).toBe(400);
      expect(raw.json().error.code).toBe('invalid_request');
      expectQuietLog(from);

      const controls = 'tab\there\u0001\u001f\fpage two\u007f';
      const ok = await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: `t\u0001${controls}`, text: controls } });
      expect(ok.statusCode, ok.body).toBe(201);
      const got = await sut.app.inject({ method: 'GET', url: `/api/items/${ok.json().id}`, headers: user.headers });
      expect(got.json().text).toBe(controls);
    });
  });
});
