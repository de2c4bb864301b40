import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieFrom, dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

type Event = { action: string; at: string; client?: string };

describe.each(dbTargets())('activity a person can read (%s)', (target) => {
  let sut: TestServer;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const activity = async (headers: Record<string, string>, query = '') => {
    const r = await inject({ method: 'GET', url: `/api/activity${query}`, headers });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { events: Event[]; nextCursor: string | null };
  };

  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('lists sign-ins with a coarse client, failed attempts, exports and token use, newest first', async () => {
    const user = await signUp(sut.app);
    const bad = await inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'user-agent': FIREFOX_WINDOWS },
      payload: { email: user.email, passphrase: 'not the passphrase' },
    });
    expect(bad.statusCode).toBe(401);
    const login = await inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'user-agent': CHROME_LINUX },
      payload: { email: user.email, passphrase: user.passphrase },
    });
    expect(login.statusCode).toBe(200);
    const headers = { cookie: cookieFrom(login.headers['set-cookie']) };

    const exported = await inject({ method: 'POST', url: '/api/export', headers, payload: { passphrase: 'an export passphrase' } });
    expect(exported.statusCode, exported.body.slice(0, 200)).toBe(200);

    const minted = await inject({ method: 'POST', url: '/api/tokens', headers, payload: { name: 'backup script', scopes: ['read'] } });
    expect(minted.statusCode).toBe(201);
    const token = minted.json().token as string;
    const used = await inject({ method: 'GET', url: '/api/items', headers: { authorization: `Bearer ${token}`, 'user-agent': 'curl/8.4.0' } });
    expect(used.statusCode).toBe(200);
    // A second request within the hour is the same stretch of use: no second event.
    await inject({ method: 'GET', url: '/api/items', headers: { authorization: `Bearer ${token}`, 'user-agent': 'curl/8.4.0' } });

    const { events, nextCursor } = await activity(headers);
    expect(nextCursor).toBeNull();
    expect(events.map((e) => e.action)).toEqual(['token_used', 'token_created', 'export', 'login', 'login_failed', 'register']);
    expect(events.find((e) => e.action === 'login')!.client).toBe('Chrome on Linux');
    expect(events.find((e) => e.action === 'login_failed')!.client).toBe('Firefox on Windows');
    expect(events.find((e) => e.action === 'token_used')!.client).toBe('curl');
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);

    // Stored sealed: neither the raw user agent nor its label is anywhere in the database in clear.
    const dump = await sut.dumpDatabase();
    expect(dump).not.toContain('Chrome on Linux');
    expect(dump).not.toContain('Firefox');
    expect(dump).not.toContain('curl');
  });

  it('pages with a cursor and refuses a malformed one', async () => {
    const user = await signUp(sut.app);
    for (let i = 0; i < 3; i++) {
      const r = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
      expect(r.statusCode).toBe(200);
    }
    const first = await activity(user.headers, '?limit=2');
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await activity(user.headers, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.events.map((e) => e.action)).toEqual(['login', 'register']);
    expect(second.nextCursor).toBeNull();
    // Opaque: the row id (one sequence for every user's events) is sealed, not shown.
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect((await activity(user.headers, '?limit=2')).nextCursor).not.toBe(first.nextCursor);
    const tampered = `${first.nextCursor!.slice(0, 20)}${first.nextCursor![20] === 'A' ? 'B' : 'A'}${first.nextCursor!.slice(21)}`;
    for (const cursor of ['abc', '-1', '48', '9223372036854775807', 'A'.repeat(48), tampered]) {
      const bad = await inject({ method: 'GET', url: `/api/activity?cursor=${cursor}`, headers: user.headers });
      expect(bad.statusCode, cursor).toBe(400);
      expect(bad.json().error.code).toEqual(expect.any(String));
    }
  });

  it('is not visible to another user, nor to an API token', async () => {
    const alice = await signUp(sut.app);
    const bob = await signUp(sut.app);
    await inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'user-agent': CHROME_LINUX },
      payload: { email: alice.email, passphrase: 'wrong passphrase!' },
    });
    const alices = await activity(alice.headers);
    expect(alices.events.map((e) => e.action)).toContain('login_failed');
    const bobs = await activity(bob.headers);
    expect(bobs.events.map((e) => e.action)).toEqual(['register']);
    // Alice's cursor is sealed for Alice: Bob cannot use it.
    const aliceCursor = (await activity(alice.headers, '?limit=1')).nextCursor;
    expect(aliceCursor).toEqual(expect.any(String));
    const crossed = await inject({ method: 'GET', url: `/api/activity?cursor=${aliceCursor}`, headers: bob.headers });
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json().error.code).toBe('invalid_cursor');

    const minted = await inject({ method: 'POST', url: '/api/tokens', headers: alice.headers, payload: { name: 'reader', scopes: ['read'] } });
    const viaToken = await inject({ method: 'GET', url: '/api/activity', headers: { authorization: `Bearer ${minted.json().token}` } });
    expect(viaToken.statusCode).toBe(403);
    const anonymous = await inject({ method: 'GET', url: '/api/activity' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('ends all other sessions and records it', async () => {
    const user = await signUp(sut.app);
    const other = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    const otherHeaders = { cookie: cookieFrom(other.headers['set-cookie']) };
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: otherHeaders })).statusCode).toBe(200);

    const r = await inject({ method: 'POST', url: '/api/auth/sessions/revoke-others', headers: user.headers });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ revoked: 1 });
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: otherHeaders })).statusCode).toBe(401);
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode).toBe(200);
    const sessions = (await inject({ method: 'GET', url: '/api/auth/sessions', headers: user.headers })).json().sessions;
    expect(sessions).toHaveLength(1);
    expect((await activity(user.headers)).events[0]!.action).toBe('other_sessions_revoked');
  });
});
