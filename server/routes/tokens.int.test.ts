import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeApiToken } from '../../crypto/index.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const run = promisify(execFile);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.each(dbTargets())('personal API tokens (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  type User = Awaited<ReturnType<typeof signUp>>;
  const mint = async (user: User, body: Record<string, unknown>) => {
    const r = await inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: body });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string; token: string; expiresAt: string };
  };
  const list = async (user: User) =>
    (await inject({ method: 'GET', url: '/api/tokens', headers: user.headers })).json().tokens as Array<Record<string, unknown>>;

  beforeAll(async () => {
    fake = await startFakeOllama({ tokens: ['The', ' echo', ' was', ' normal', ' [1].'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, OLLAMA_MODEL: 'test-model' });
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is shown once at creation, listed with name, scopes, dates and last use, and opens the same vault', async () => {
    const user = await signUp(sut.app);
    const note = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'Echo report', text: 'normal echo' } })).json();
    const before = Date.now();
    const made = await mint(user, { name: 'backup script', scopes: ['read'] });
    expect(made.token).toMatch(/^cvt_[A-Za-z0-9_-]{43}$/);
    // Default expiry: 90 days.
    expect(Math.abs(new Date(made.expiresAt).getTime() - (before + 90 * 86_400_000))).toBeLessThan(60_000);

    const [listed] = await list(user);
    expect(listed).toEqual({
      id: made.id,
      name: 'backup script',
      scopes: ['read'],
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: made.expiresAt,
    });
    expect(JSON.stringify(await list(user))).not.toContain(made.token);

    const read = await inject({ method: 'GET', url: `/api/items/${note.id}`, headers: bearer(made.token) });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ title: 'Echo report', text: 'normal echo' });
    expect(read.headers['set-cookie']).toBeUndefined();
    const me = await inject({ method: 'GET', url: '/api/auth/me', headers: bearer(made.token) });
    expect(me.json().user).toEqual({ id: user.user.id, email: user.email });

    const [used] = await list(user);
    expect(new Date(used!.lastUsedAt as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('enforces scopes: read, write and chat each allow only their own routes', async () => {
    const user = await signUp(sut.app);
    const reader = (await mint(user, { name: 'reader', scopes: ['read'] })).token;
    const writer = (await mint(user, { name: 'writer', scopes: ['write'] })).token;
    const chatter = (await mint(user, { name: 'chatter', scopes: ['chat', 'read'] })).token;

    const denied = await inject({ method: 'POST', url: '/api/items', headers: bearer(reader), payload: { title: 'x', text: 'y' } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('insufficient_scope');
    expect((await inject({ method: 'GET', url: '/api/items', headers: user.headers })).json().items).toHaveLength(0);

    const written = await inject({
      method: 'POST',
      url: '/api/items',
      headers: bearer(writer),
      payload: { title: 'From a script', text: 'the cardiologist said the echo was normal' },
    });
    expect(written.statusCode).toBe(201);
    // Sealed under the same vault key: the browser session reads what the script wrote.
    const seen = await inject({ method: 'GET', url: `/api/items/${written.json().id}`, headers: user.headers });
    expect(seen.json().text).toBe('the cardiologist said the echo was normal');
    const writerReads = await inject({ method: 'GET', url: '/api/items', headers: bearer(writer) });
    expect(writerReads.statusCode).toBe(403);
    expect(writerReads.json().error.code).toBe('insufficient_scope');
    // Whose token it is, and which models a chat may use, are open to any scope.
    const whoami = await inject({ method: 'GET', url: '/api/auth/me', headers: bearer(writer) });
    expect(whoami.statusCode).toBe(200);
    expect(whoami.json().user.id).toBe(user.user.id);
    const chatOnly = (await mint(user, { name: 'chat only', scopes: ['chat'] })).token;
    expect((await inject({ method: 'GET', url: '/api/models', headers: bearer(chatOnly) })).statusCode).not.toBe(403);

    const noChat = await inject({ method: 'POST', url: '/api/chat', headers: bearer(reader), payload: { message: 'What did the cardiologist say?' } });
    expect(noChat.statusCode).toBe(403);
    expect(noChat.json().error.code).toBe('insufficient_scope');
    const answered = await inject({ method: 'POST', url: '/api/chat', headers: bearer(chatter), payload: { message: 'What did the cardiologist say?' } });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(answered.body).toContain('event: done');
    const chats = await inject({ method: 'GET', url: '/api/chats', headers: bearer(chatter) });
    expect(chats.statusCode).toBe(200);
    expect(chats.json().chats).toHaveLength(1);
    // Deleting a chat is a write, not chat.
    const del = await inject({ method: 'DELETE', url: `/api/chats/${chats.json().chats[0].id}`, headers: bearer(chatter) });
    expect(del.statusCode).toBe(403);
  });

  it('applies the same scopes to history, folders and the trash', async () => {
    const user = await signUp(sut.app);
    const reader = (await mint(user, { name: 'reader', scopes: ['read'] })).token;
    const writer = (await mint(user, { name: 'writer', scopes: ['write'] })).token;
    const editor = (await mint(user, { name: 'editor', scopes: ['read', 'write'] })).token;
    const note = (await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'Diary', text: 'first' } })).json();
    // An edit answers with the whole item: read as well as write.
    const editByWriter = await inject({ method: 'PATCH', url: `/api/items/${note.id}`, headers: bearer(writer), payload: { baseVersion: note.version } });
    expect(editByWriter.statusCode).toBe(403);
    expect(editByWriter.json().error).toMatchObject({ code: 'insufficient_scope', message: 'This token lacks the "read" scope.' });
    expect(editByWriter.body).not.toContain('first');
    const edited = await inject({
      method: 'PATCH',
      url: `/api/items/${note.id}`,
      headers: bearer(editor),
      payload: { text: 'second', baseVersion: note.version },
    });
    expect(edited.statusCode, edited.body).toBe(200);

    const versions = await inject({ method: 'GET', url: `/api/items/${note.id}/versions`, headers: bearer(reader) });
    expect(versions.statusCode, versions.body).toBe(200);
    expect(versions.json().versions.length).toBeGreaterThanOrEqual(1);
    const restoreByReader = await inject({ method: 'POST', url: `/api/items/${note.id}/versions/1/restore`, headers: bearer(reader) });
    expect(restoreByReader.statusCode).toBe(403);
    expect(restoreByReader.json().error.code).toBe('insufficient_scope');

    const folderByReader = await inject({ method: 'POST', url: '/api/folders', headers: bearer(reader), payload: { name: 'Cardiology' } });
    expect(folderByReader.statusCode).toBe(403);
    const folder = await inject({ method: 'POST', url: '/api/folders', headers: bearer(writer), payload: { name: 'Cardiology' } });
    expect(folder.statusCode, folder.body).toBe(201);
    const folders = await inject({ method: 'GET', url: '/api/folders', headers: bearer(reader) });
    expect(folders.json().folders.map((f: { name: string }) => f.name)).toContain('Cardiology');

    expect((await inject({ method: 'DELETE', url: `/api/items/${note.id}`, headers: bearer(writer) })).statusCode).toBe(204);
    const trash = await inject({ method: 'GET', url: '/api/trash', headers: bearer(reader) });
    expect(trash.json().items.map((i: { id: string }) => i.id)).toContain(note.id);
    const purgeByReader = await inject({ method: 'DELETE', url: '/api/trash', headers: bearer(reader) });
    expect(purgeByReader.statusCode).toBe(403);
    expect((await inject({ method: 'GET', url: '/api/trash', headers: user.headers })).json().items).toHaveLength(1);
    expect((await inject({ method: 'DELETE', url: `/api/trash/${note.id}`, headers: bearer(writer) })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/api/trash', headers: user.headers })).json().items).toHaveLength(0);
  });

  it('cannot change the passphrase, rotate the recovery key, manage sessions, invites or tokens, or delete the account', async () => {
    const user = await signUp(sut.app);
    const all = await mint(user, { name: 'everything', scopes: ['read', 'write', 'chat'] });
    const attempts: InjectOptions[] = [
      { method: 'POST', url: '/api/auth/passphrase', payload: { current: user.passphrase, next: 'a brand new passphrase here' } },
      { method: 'POST', url: '/api/auth/recovery-key', payload: { passphrase: user.passphrase } },
      { method: 'POST', url: '/api/tokens', payload: { name: 'child', scopes: ['read'] } },
      { method: 'GET', url: '/api/tokens' },
      { method: 'DELETE', url: `/api/tokens/${all.id}` },
      { method: 'GET', url: '/api/auth/sessions' },
      { method: 'POST', url: '/api/auth/logout' },
      { method: 'POST', url: '/api/invites', payload: {} },
      { method: 'GET', url: '/api/invites' },
      { method: 'DELETE', url: '/api/account', payload: { passphrase: user.passphrase } },
      // Encoded spellings reach the same routes and are judged as them.
      { method: 'POST', url: '/%61pi/auth/passphrase', payload: { current: user.passphrase, next: 'a brand new passphrase here' } },
    ];
    for (const a of attempts) {
      const r = await inject({ ...a, headers: bearer(all.token) });
      expect(r.statusCode, `${a.method} ${a.url}`).toBe(403);
      expect(r.json().error.code, `${a.method} ${a.url}`).toBe('token_not_allowed');
    }
    // Nothing changed: the passphrase still signs in, and the token still works and is the only one.
    const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    expect(login.statusCode).toBe(200);
    expect((await list(user)).map((t) => t.id)).toEqual([all.id]);
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(all.token) })).statusCode).toBe(200);
  });

  it('is refused at once when revoked, and when expired', async () => {
    const user = await signUp(sut.app);
    const t = await mint(user, { name: 'short', scopes: ['read'], expiresInDays: 1 });
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(t.token) })).statusCode).toBe(200);

    // The clock moves past the expiry (only Date is faked; the database compares with it).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 86_400_000 + 60_000 });
    const expired = await inject({ method: 'GET', url: '/api/items', headers: bearer(t.token) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('invalid_token');
    expect(expired.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    vi.useRealTimers();

    const u = await mint(user, { name: 'revoked', scopes: ['read'] });
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(u.token) })).statusCode).toBe(200);
    expect((await inject({ method: 'DELETE', url: `/api/tokens/${u.id}`, headers: user.headers })).statusCode).toBe(204);
    const revoked = await inject({ method: 'GET', url: '/api/items', headers: bearer(u.token) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe('invalid_token');
    expect((await list(user)).map((x) => x.id)).toEqual([t.id]);
    // Someone else's token id is not found, and not revoked.
    const other = await signUp(sut.app);
    const theirs = await mint(other, { name: 'theirs', scopes: ['read'] });
    expect((await inject({ method: 'DELETE', url: `/api/tokens/${theirs.id}`, headers: user.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(theirs.token) })).statusCode).toBe(200);
  });

  it('is read from the Authorization header only: never from a URL, and cookies and Origin do not apply to it', async () => {
    const user = await signUp(sut.app);
    const t = await mint(user, { name: 'header only', scopes: ['read', 'write'] });
    for (const url of [`/api/items?access_token=${t.token}`, `/api/items?token=${t.token}`]) {
      const r = await inject({ method: 'GET', url });
      expect(r.statusCode).toBe(401);
    }
    // A bad bearer with a good cookie: the cookie is not used.
    const mixed = await inject({ method: 'GET', url: '/api/items', headers: { ...user.headers, authorization: 'Bearer cvt_not-a-real-token' } });
    expect(mixed.statusCode).toBe(401);
    expect(mixed.json().error.code).toBe('invalid_token');
    for (const h of ['Bearer', 'Bearer ', `Bearer ${t.token} extra`, `Bearer ${t.token.slice(0, -1)}`]) {
      expect((await inject({ method: 'GET', url: '/api/items', headers: { authorization: h } })).statusCode, h).toBe(401);
    }
    // The Origin check guards cookies; a bearer request from anywhere is judged by its token.
    const foreign = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    const cookieWrite = await inject({ method: 'POST', url: '/api/items', headers: { ...user.headers, ...foreign }, payload: { title: 'a', text: 'b' } });
    expect(cookieWrite.statusCode).toBe(403);
    expect(cookieWrite.json().error.code).toBe('forbidden_origin');
    const tokenWrite = await inject({ method: 'POST', url: '/api/items', headers: { ...bearer(t.token), ...foreign }, payload: { title: 'a', text: 'b' } });
    expect(tokenWrite.statusCode).toBe(201);
  });

  it('validates what it is given', async () => {
    const user = await signUp(sut.app);
    const bad = [
      {},
      { name: '', scopes: ['read'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['admin'] },
      { name: 'x', scopes: ['read'], expiresInDays: 0 },
      { name: 'x', scopes: ['read'], expiresInDays: 366 },
      { name: 'x'.repeat(101), scopes: ['read'] },
    ];
    for (const payload of bad) {
      const r = await inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().error.code).toBeTypeOf('string');
    }
    expect((await inject({ method: 'POST', url: '/api/tokens', payload: { name: 'x', scopes: ['read'] } })).statusCode).toBe(401);
    expect((await inject({ method: 'GET', url: '/api/tokens' })).statusCode).toBe(401);
  });

  it('ends when the account is recovered with the recovery key', async () => {
    const user = await signUp(sut.app);
    const t = await mint(user, { name: 'old', scopes: ['read'] });
    const r = await inject({
      method: 'POST',
      url: '/api/auth/recover',
      payload: { email: user.email, recoveryKey: user.recoveryKey, next: 'a brand new passphrase here' },
    });
    expect(r.statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(t.token) })).statusCode).toBe(401);
  });

  it('works from a script over real HTTP (curl, as in docs/API.md)', async () => {
    const user = await signUp(sut.app);
    const t = await mint(user, { name: 'curl', scopes: ['read', 'write'] });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(sut.app.server.address() as AddressInfo).port}`;
    const post = await run('curl', [
      '-sS',
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${t.token}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ title: 'Blood pressure', text: '120/80 this morning' }),
      `${base}/api/items`,
    ]);
    const created = JSON.parse(post.stdout);
    expect(created.title).toBe('Blood pressure');
    const get = await run('curl', ['-sS', '-H', `Authorization: Bearer ${t.token}`, `${base}/api/search?q=pressure`]);
    expect(JSON.stringify(JSON.parse(get.stdout))).toContain(created.id);
  });

  it('keeps token secrets out of the database, the data directory and the logs', async () => {
    const user = await signUp(sut.app);
    const t = await mint(user, { name: 'nametokencanary', scopes: ['read'] });
    await inject({ method: 'GET', url: '/api/items', headers: bearer(t.token) });
    await inject({ method: 'GET', url: '/api/items', headers: { authorization: `Bearer ${t.token}x` } });
    const secret = decodeApiToken(t.token)!;
    const body = t.token.slice(4);
    expect(sut.logs()).not.toContain(body);
    await sut.stop();
    const dump = await sut.dumpDatabase();
    expect(dump).toMatch(/-- api_tokens\n\(/);
    for (const needle of [body, secret.toString('hex'), secret.toString('base64'), 'nametokencanary']) expect(dump).not.toContain(needle);
    const disk = await sut.dumpDataDir();
    for (const needle of [Buffer.from(body), secret, Buffer.from('nametokencanary')]) expect(disk.includes(needle)).toBe(false);
    await sut.restart();
    // Still works after a restart: nothing about it lived only in memory.
    expect((await inject({ method: 'GET', url: '/api/items', headers: bearer(t.token) })).statusCode).toBe(200);
  });
});
