import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { cookieFrom, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { makePdf } from '../../test-support/server/pdf.js';

describe.each(dbTargets())('encrypted vault over HTTP (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const inject = (opts: InjectOptions) => sut.app.inject(opts);

  it('keeps canaries out of the database, the data directory and the logs, and reads them back after a restart', async () => {
    const canary = `canary${randomBytes(6).toString('hex')}`;
    const user = await signUp(sut.app);
    const note = await inject({
      method: 'POST',
      url: '/api/items',
      headers: user.headers,
      payload: { title: `${canary}-title`, text: `my ${canary}-text secret`, tags: [`${canary}-tag`] },
    });
    expect(note.statusCode).toBe(201);
    const fileBody = Buffer.from(`file body ${canary}-file\n`.repeat(5000));
    const upload = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: `${canary}-name.txt`, type: 'text/plain', data: fileBody }, {}, user.headers),
    });
    expect(upload.statusCode).toBe(201);
    const pdf = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'scan.pdf', type: 'application/pdf', data: makePdf(`pdf ${canary}-pdf words`) }, {}, user.headers),
    });
    expect(pdf.statusCode).toBe(201);
    expect(pdf.json().text).toContain(`${canary}-pdf`);

    await sut.stop();
    const dump = await sut.dumpDatabase();
    const disk = await sut.dumpDataDir();
    for (const needle of ['title', 'text', 'tag', 'file', 'name', 'pdf']) {
      expect(dump).not.toContain(`${canary}-${needle}`);
      expect(disk.includes(Buffer.from(`${canary}-${needle}`))).toBe(false);
      expect(sut.logs()).not.toContain(`${canary}-${needle}`);
    }
    expect(dump).not.toContain(user.passphrase);
    expect(sut.logs()).not.toContain(user.passphrase);
    expect(sut.logs()).not.toContain(user.cookie.split('=')[1]);
    expect(sut.logs()).not.toContain(user.recoveryKey);

    await sut.restart();
    const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    expect(login.statusCode).toBe(200);
    const headers = { cookie: cookieFrom(login.headers['set-cookie']) };
    const read = await inject({ method: 'GET', url: `/api/items/${note.json().id}`, headers });
    expect(read.json()).toMatchObject({ title: `${canary}-title`, text: `my ${canary}-text secret`, tags: [`${canary}-tag`] });
    const file = await inject({ method: 'GET', url: `/api/files/${upload.json().fileId}`, headers });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(fileBody)).toBe(true);
    expect(file.headers['content-disposition']).toContain(`filename*=UTF-8''${canary}-name.txt`);
    const found = await inject({ method: 'GET', url: `/api/search?q=${canary}-pdf`, headers });
    expect(found.json().results[0].item.id).toBe(pdf.json().id);
    // The session cookie issued before the restart still works: sessions are stateless.
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode).toBe(200);
  });

  it('registers, signs in and out with the cookie rules of the API', async () => {
    const email = `Ada.${randomBytes(3).toString('hex')}@Example.com`;
    const reg = await inject({ method: 'POST', url: '/api/auth/register', payload: { email, passphrase: 'a long enough passphrase' } });
    expect(reg.statusCode).toBe(201);
    expect(reg.json().user.email).toBe(email.toLowerCase());
    expect(reg.json().recoveryKey).toMatch(/^CV1-/);
    const setCookie = String(reg.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = cookieFrom(reg.headers['set-cookie']);

    const me = await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.json()).toEqual({ user: { id: reg.json().user.id, email: email.toLowerCase() } });

    const dup = await inject({ method: 'POST', url: '/api/auth/register', payload: { email, passphrase: 'another passphrase 1' } });
    expect(dup.statusCode).toBe(409);

    const wrong = await inject({ method: 'POST', url: '/api/auth/login', payload: { email, passphrase: 'not the passphrase' } });
    const unknown = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'nobody@example.com', passphrase: 'whatever it is' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());

    expect((await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401);
    expect((await inject({ method: 'GET', url: '/api/items', headers: { cookie } })).statusCode).toBe(401);
  });

  it('changes the passphrase by re-wrapping, ends other sessions, and recovers with the recovery key', async () => {
    const user = await signUp(sut.app);
    await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'kept', text: 'survives re-wrap' } });
    const other = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    const otherCookie = cookieFrom(other.headers['set-cookie']);

    const bad = await inject({
      method: 'POST',
      url: '/api/auth/passphrase',
      headers: user.headers,
      payload: { current: 'wrong one!!', next: 'new passphrase 123' },
    });
    expect(bad.statusCode).toBe(401);
    const ok = await inject({
      method: 'POST',
      url: '/api/auth/passphrase',
      headers: user.headers,
      payload: { current: user.passphrase, next: 'new passphrase 123' },
    });
    expect(ok.statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: otherCookie } })).statusCode).toBe(401);
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode).toBe(200);
    expect((await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } })).statusCode).toBe(401);

    const badKey = await inject({
      method: 'POST',
      url: '/api/auth/recover',
      payload: { email: user.email, recoveryKey: 'CV1-AAAA-BBBB', next: 'recovered pass 1' },
    });
    expect(badKey.statusCode).toBe(401);
    const typed = user.recoveryKey.toLowerCase().replace(/-/g, ' ');
    const rec = await inject({ method: 'POST', url: '/api/auth/recover', payload: { email: user.email, recoveryKey: typed, next: 'recovered pass 1' } });
    expect(rec.statusCode).toBe(200);
    const headers = { cookie: cookieFrom(rec.headers['set-cookie']) };
    const list = await inject({ method: 'GET', url: '/api/items', headers });
    expect(list.json().items.map((i: { text: string }) => i.text)).toContain('survives re-wrap');
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode).toBe(401);
  });

  it('throttles repeated failures per account with 429 and Retry-After', async () => {
    const user = await signUp(sut.app);
    const statuses: number[] = [];
    let retryAfter = 0;
    // Past the fifth failure each one locks the account for twice as long as the one before (2 s,
    // 4 s, 8 s…), so however long one passphrase check takes on a loaded machine, a guess soon lands
    // inside a lock. Guessing goes on until one is refused with at least a second of it left, so
    // the right passphrase sent next is refused too, whatever the clock did in between.
    for (let i = 0; i < 30 && retryAfter < 2; i++) {
      const r = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: `wrong guess ${i}` } });
      statuses.push(r.statusCode);
      if (r.statusCode === 429) retryAfter = Number(r.headers['retry-after']);
      // Refused with under two seconds left (the machine lagged): wait the lock out, so the next
      // guess fails and doubles it, rather than spending the guesses inside this one.
      if (r.statusCode === 429 && retryAfter < 2) await new Promise((done) => setTimeout(done, retryAfter * 1000));
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses).toContain(429);
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    const blocked = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('rate_limited');
  });

  it('refuses a foreign Origin on mutating routes', async () => {
    const user = await signUp(sut.app);
    const r = await inject({ method: 'POST', url: '/api/items', headers: { ...user.headers, origin: 'https://evil.example' }, payload: { title: 'x' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('forbidden_origin');
    const same = await inject({ method: 'POST', url: '/api/items', headers: { ...user.headers, origin: 'http://localhost:8080' }, payload: { title: 'x' } });
    expect(same.statusCode).toBe(201);
  });

  it('never shows one user another user’s items, files or search results', async () => {
    const alice = await signUp(sut.app);
    const bob = await signUp(sut.app);
    const secret = `alicesecret${randomBytes(4).toString('hex')}`;
    const note = (await inject({ method: 'POST', url: '/api/items', headers: alice.headers, payload: { title: secret, text: secret } })).json();
    const file = (
      await inject({ method: 'POST', url: '/api/files', ...multipart({ name: 'a.txt', type: 'text/plain', data: Buffer.from(secret) }, {}, alice.headers) })
    ).json();

    for (const url of [`/api/items/${note.id}`, `/api/files/${file.fileId}`]) {
      const r = await inject({ method: 'GET', url, headers: bob.headers });
      expect(r.statusCode).toBe(404);
      expect(r.body).not.toContain(secret);
    }
    expect((await inject({ method: 'PATCH', url: `/api/items/${note.id}`, headers: bob.headers, payload: { title: 'pwned' } })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: `/api/items/${note.id}`, headers: bob.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/search?q=${secret}`, headers: bob.headers })).json().results).toEqual([]);
    expect((await inject({ method: 'GET', url: '/api/items', headers: bob.headers })).json().items).toEqual([]);
    // Bob uploading the same bytes gets his own copy, not Alice's item.
    const bobFile = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'b.txt', type: 'text/plain', data: Buffer.from(secret) }, {}, bob.headers),
    });
    expect(bobFile.statusCode).toBe(201);
    expect(bobFile.json().id).not.toBe(file.id);
  });

  it('treats a ciphertext swapped between two rows as an integrity error, never as the other row', async () => {
    const user = await signUp(sut.app);
    const a = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'row A', text: 'alpha' } })).json();
    const b = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'row B', text: 'bravo' } })).json();
    const other = await signUp(sut.app);
    const c = (await inject({ method: 'POST', url: '/api/items', headers: other.headers, payload: { title: 'row C', text: 'charlie' } })).json();
    await sut.stop();
    const { db } = await openDatabase(sut.target === 'postgres' ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    await sql`update vault_items set ciphertext = (select ciphertext from vault_items where id = ${b.id}) where id = ${a.id}`.execute(db);
    await sql`update vault_items set ciphertext = (select ciphertext from vault_items where id = ${c.id}), version = 1 where id = ${b.id}`.execute(db);
    await db.destroy();
    await sut.restart();
    for (const id of [a.id, b.id]) {
      const r = await inject({ method: 'GET', url: `/api/items/${id}`, headers: user.headers });
      expect(r.statusCode).toBe(500);
      expect(r.json().error.code).toBe('integrity_error');
      expect(r.body).not.toMatch(/bravo|charlie|alpha/);
    }
  });

  it('pages, filters, tags, trashes and restores', async () => {
    const user = await signUp(sut.app);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await inject({
        method: 'POST',
        url: '/api/items',
        headers: user.headers,
        payload: { title: `note ${i}`, text: `body ${i}`, tags: i % 2 ? ['Odd', 'shared'] : ['shared'], occurredAt: `2026-0${i + 1}-15T12:00:00Z` },
      });
      created.push(r.json().id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (
        await inject({ method: 'GET', url: `/api/items?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: user.headers })
      ).json();
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());

    const odd = (await inject({ method: 'GET', url: '/api/items?tag=odd', headers: user.headers })).json();
    expect(odd.items).toHaveLength(3);
    const range = (await inject({ method: 'GET', url: '/api/items?from=2026-02-01&to=2026-04-15', headers: user.headers })).json();
    expect(range.items.map((i: { title: string }) => i.title)).toEqual(['note 3', 'note 2', 'note 1']);
    const tags = (await inject({ method: 'GET', url: '/api/tags', headers: user.headers })).json();
    expect(tags.tags).toEqual([
      { name: 'shared', count: 7 },
      { name: 'Odd', count: 3 },
    ]);

    const patched = await inject({
      method: 'PATCH',
      url: `/api/items/${created[0]}`,
      headers: user.headers,
      payload: { text: 'edited words', tags: ['fresh'] },
    });
    expect(patched.json()).toMatchObject({ text: 'edited words', tags: ['fresh'], title: 'note 0' });
    expect((await inject({ method: 'GET', url: '/api/search?q=edited', headers: user.headers })).json().results).toHaveLength(1);

    expect((await inject({ method: 'DELETE', url: `/api/items/${created[0]}`, headers: user.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: `/api/items/${created[0]}`, headers: user.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: '/api/search?q=edited', headers: user.headers })).json().results).toHaveLength(0);
    const trash = (await inject({ method: 'GET', url: '/api/trash', headers: user.headers })).json();
    expect(trash.items.map((i: { id: string }) => i.id)).toEqual([created[0]]);
    const restored = await inject({ method: 'POST', url: `/api/items/${created[0]}/restore`, headers: user.headers });
    expect(restored.statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/api/trash', headers: user.headers })).json().items).toEqual([]);
  });

  it('gives a tag back to a new item after emptying the trash deleted it, in the same session', async () => {
    const user = await signUp(sut.app);
    const post = (tags: string[]) => inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'a note', text: 'words', tags } });
    const first = (await post(['Reused'])).json();
    expect((await inject({ method: 'DELETE', url: `/api/items/${first.id}`, headers: user.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'DELETE', url: '/api/trash', headers: user.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/tags', headers: user.headers })).json().tags).toEqual([]);
    // The session sealed this tag's row before; the row the trash deleted goes back in with it.
    const again = (await Promise.all([post(['Reused', 'other']), post(['reused'])])).map((r) => r.json());
    expect(again.map((i: { tags: string[] }) => i.tags)).toEqual([['Reused', 'other'], ['reused']]);
    const tagged = (await inject({ method: 'GET', url: '/api/items?tag=reused', headers: user.headers })).json();
    expect(tagged.items.map((i: { id: string }) => i.id).sort()).toEqual(again.map((i: { id: string }) => i.id).sort());
    expect((await inject({ method: 'GET', url: '/api/tags', headers: user.headers })).json().tags).toEqual([
      { name: 'Reused', count: 2 },
      { name: 'other', count: 1 },
    ]);
  });

  it('counts a tag in characters as it is stored: emoji tags kept whole, one NFKC makes too long refused', async () => {
    const user = await signUp(sut.app);
    const post = (tags: string[]) => inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'tagged', tags } });
    // 40 emoji are 80 UTF-16 units: were cut to 32, and a mixed tag inside a surrogate pair.
    const emoji = '😀'.repeat(40);
    const mixed = `${'x'.repeat(63)}😀`;
    const ok = await post([emoji, mixed, 'ﬁle']);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().tags).toEqual([emoji, mixed, 'file']);
    // U+FDFA is one character that NFKC spells in 18: ten of them were stored as 64 other characters.
    for (const tags of [['\uFDFA'.repeat(10)], ['x'.repeat(65)], ['  ']]) {
      const res = await post(tags);
      expect(res.statusCode, JSON.stringify(tags)).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
    const names = (await inject({ method: 'GET', url: '/api/tags', headers: user.headers })).json().tags.map((t: { name: string }) => t.name);
    expect(names.sort()).toEqual([emoji, mixed, 'file'].sort());
    expect(names.join('')).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('ranks search results by relevance over titles, text, tags and file text', async () => {
    const user = await signUp(sut.app);
    const mk = (title: string, text: string, tags: string[] = []) =>
      inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title, text, tags } }).then((r) => r.json());
    const strong = await mk('Cardiology visit', 'cardiology follow-up: cardiology said the echo was fine');
    const weak = await mk('Groceries', 'apples, bread, and a magazine about cardiology');
    await mk('Unrelated', 'nothing to see');
    const tagged = await mk('Trip', 'Paris', ['holiday']);
    const r = (await inject({ method: 'GET', url: '/api/search?q=cardiology', headers: user.headers })).json();
    expect(r.results.map((x: { item: { id: string } }) => x.item.id)).toEqual([strong.id, weak.id]);
    expect(r.results[0].score).toBeGreaterThan(r.results[1].score);
    expect((await inject({ method: 'GET', url: '/api/search?q=holidays', headers: user.headers })).json().results[0].item.id).toBe(tagged.id);
  });

  it('dedupes identical uploads per user and streams the bytes back', async () => {
    const user = await signUp(sut.app);
    const data = randomBytes(200_000);
    const first = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'blob.bin', type: 'application/octet-stream', data }, {}, user.headers),
    });
    const second = await inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'again.bin', type: 'application/octet-stream', data }, {}, user.headers),
    });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json().id).toBe(first.json().id);
    const dl = await inject({ method: 'GET', url: `/api/files/${first.json().fileId}`, headers: user.headers });
    expect(dl.rawPayload.equals(data)).toBe(true);
    expect(dl.headers['content-type']).toBe('application/octet-stream');
    expect(dl.headers['content-disposition']).toMatch(/^attachment;/);
  });

  describe('bad input', () => {
    let user: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      user = await signUp(sut.app);
    });
    const countItems = async () => (await inject({ method: 'GET', url: '/api/items?limit=200', headers: user.headers })).json().items.length;

    it.each([
      ['malformed JSON', { method: 'POST', url: '/api/items', payload: '{"title": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
      ['missing title', { method: 'POST', url: '/api/items', payload: { text: 'x' } }, 400, 'invalid_request'],
      ['wrong type', { method: 'POST', url: '/api/items', payload: { title: 42 } }, 400, 'invalid_request'],
      [
        'too many tags',
        { method: 'POST', url: '/api/items', payload: { title: 't', tags: Array.from({ length: 40 }, (_, i) => `t${i}`) } },
        400,
        'invalid_request',
      ],
      ['bad date', { method: 'POST', url: '/api/items', payload: { title: 't', occurredAt: 'yesterday-ish' } }, 400, 'invalid_request'],
      ['huge body', { method: 'POST', url: '/api/items', payload: { title: 't', text: 'x'.repeat(6_200_000) } }, 413, 'too_large'],
      ['empty patch', { method: 'PATCH', url: '/api/items/00000000-0000-4000-8000-000000000000', payload: {} }, 400, 'invalid_request'],
      ['bad id', { method: 'GET', url: '/api/items/not-a-uuid' }, 400, 'invalid_request'],
      ['bad cursor', { method: 'GET', url: '/api/items?cursor=zzz' }, 400, 'invalid_cursor'],
      ['bad limit', { method: 'GET', url: '/api/items?limit=100000' }, 400, 'invalid_request'],
      ['empty search', { method: 'GET', url: '/api/search?q=' }, 400, 'invalid_request'],
      ['JSON to the upload route', { method: 'POST', url: '/api/files', payload: { file: 'x' } }, 415, 'unsupported_media_type'],
      ['unknown route', { method: 'GET', url: '/api/nope' }, 404, 'not_found'],
      ['short passphrase', { method: 'POST', url: '/api/auth/register', payload: { email: 'x@example.com', passphrase: 'short' } }, 400, 'invalid_request'],
      [
        'bad email',
        { method: 'POST', url: '/api/auth/register', payload: { email: 'not-an-email', passphrase: 'long enough passphrase' } },
        400,
        'invalid_request',
      ],
    ] as const)('%s', async (_name, req, status, code) => {
      const before = await countItems();
      const r = await inject({ ...(req as object), headers: { ...user.headers, ...('headers' in req ? req.headers : {}) } } as never);
      expect(r.statusCode).toBe(status);
      expect(r.json().error.code).toBe(code);
      expect(typeof r.json().error.message).toBe('string');
      expect(r.body).not.toMatch(/at .*\.ts:\d+|node_modules/);
      expect(await countItems()).toBe(before);
    });

    it('keeps a corrupt PDF, marked unreadable with the reason (nothing silently unreadable)', async () => {
      const before = await countItems();
      const r = await inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name: 'broken.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.7\n garbage garbage') }, {}, user.headers),
      });
      expect(r.statusCode).toBe(201);
      expect(r.json().extraction).toEqual({ status: 'failed', reason: 'damaged or unreadable file' });
      expect(await countItems()).toBe(before + 1);
    });

    it('reads back the file name a browser encoded, and names the download in RFC 5987 characters', async () => {
      const name = `Dr "Smith" (2024)'s letter*.txt`;
      const form = new FormData();
      form.append('file', new Blob(['a letter']), name);
      // The body a browser sends (undici follows the HTML standard): `"` travels as %22.
      const req = new Request('http://localhost/', { method: 'POST', body: form });
      const payload = Buffer.from(await req.arrayBuffer());
      expect(payload.toString()).toContain('filename="Dr %22Smith%22');
      const r = await inject({ method: 'POST', url: '/api/files', headers: { ...user.headers, 'content-type': req.headers.get('content-type')! }, payload });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().data.fileName).toBe(name);
      const dl = await inject({ method: 'GET', url: `/api/files/${r.json().fileId}`, headers: user.headers });
      expect(dl.headers['content-disposition']).toBe(
        `attachment; filename="Dr _Smith_ (2024)'s letter*.txt"; filename*=UTF-8''Dr%20%22Smith%22%20%282024%29%27s%20letter%2A.txt`,
      );
    });

    it('cleans hostile file names', async () => {
      const name = '../../etc/\u202Epasswd\u0007.txt';
      const r = await inject({
        method: 'POST',
        url: '/api/files',
        ...multipart({ name, type: 'text/plain', data: Buffer.from('hostile name test') }, {}, user.headers),
      });
      expect(r.statusCode).toBe(201);
      expect(r.json().data.fileName).toBe('passwd.txt');
      const dl = await inject({ method: 'GET', url: `/api/files/${r.json().fileId}`, headers: user.headers });
      expect(dl.headers['content-disposition']).toBe(`attachment; filename="passwd.txt"; filename*=UTF-8''passwd.txt`);
    });

    it('answers 413 for an upload over the limit and keeps nothing', async () => {
      const small = await startTestServer(target, { MAX_UPLOAD_MB: '1' });
      try {
        const u = await signUp(small.app);
        const r = await small.app.inject({
          method: 'POST',
          url: '/api/files',
          ...multipart({ name: 'big.bin', type: 'application/octet-stream', data: randomBytes(1024 * 1024 + 10) }, {}, u.headers),
        });
        expect(r.statusCode).toBe(413);
        expect(r.json().error.code).toBe('too_large');
        expect((await small.app.inject({ method: 'GET', url: '/api/items', headers: u.headers })).json().items).toEqual([]);
      } finally {
        await small.dispose();
      }
    });
  });
});
