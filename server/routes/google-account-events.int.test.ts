import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startOidcProvider, type OidcProvider } from '../../test-support/server/oidc-provider.js';

const PUBLIC = 'http://localhost:8080';
const GOOGLE_ID = 'cv-google-client';
const GOOGLE_SECRET = `gsecret-${randomBytes(8).toString('hex')}`;
const PASS = 'correct horse battery staple';

/** The cookies a response sets, as one request header value (cleared ones left out). */
function cookies(res: LightMyRequestResponse, prev = ''): string {
  const jar = new Map(prev ? prev.split('; ').map((c) => c.split('=', 2) as [string, string]) : []);
  const raw = res.headers['set-cookie'];
  for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    if (pair!.slice(i + 1) === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(pair!.slice(0, i));
    else jar.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** Google sign-in and the security events around it: what the owner's activity shows, and what a spent or stale flow opens. */
describe.each(dbTargets())('Google link, pending sign-ins and security events (%s)', (target) => {
  let sut: TestServer;
  let google: OidcProvider;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    google = await startOidcProvider({
      clientId: GOOGLE_ID,
      clientSecret: GOOGLE_SECRET,
      redirectUris: [`${PUBLIC}/api/auth/google/callback`],
      email: 'ada@example.com',
      sub: 'google-sub-1',
    });
    sut = await startTestServer(target, {
      PUBLIC_URL: PUBLIC,
      ALLOW_HTTP_LOOPBACK: '1',
      GOOGLE_CLIENT_ID: GOOGLE_ID,
      GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
      GOOGLE_ISSUER: google.issuer,
    });
  });
  afterAll(async () => {
    await sut?.dispose();
    await google?.close();
  });

  async function providerRedirect(authorizeUrl: string): Promise<string> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    const to = new URL(res.headers.get('location')!);
    return `${to.pathname}${to.search}`;
  }

  const actions = async (headers: { cookie: string }) =>
    ((await inject({ method: 'GET', url: '/api/activity', headers })).json() as { events: Array<{ action: string; client?: string }> }).events;

  /** Starts linking for `user` and returns the callback request, not yet sent. */
  async function linkFlow(user: { headers: { cookie: string } }): Promise<InjectOptions> {
    const start = await inject({ method: 'POST', url: '/api/auth/google/link', headers: user.headers });
    expect(start.statusCode).toBe(200);
    const url = await providerRedirect(start.json().url);
    return { method: 'GET', url, headers: { cookie: cookies(start), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' } };
  }

  it('records linking and unlinking Google in the activity', async () => {
    const user = await signUp(sut.app);
    google.setUser({ sub: `link-${randomBytes(4).toString('hex')}`, email: user.email });
    const cb = await inject(await linkFlow(user));
    expect(cb.headers.location).toBe('/settings?google=linked');
    expect((await inject({ method: 'DELETE', url: '/api/auth/google/link', headers: user.headers })).statusCode).toBe(204);
    const events = await actions(user.headers);
    expect(events.map((e) => e.action).slice(0, 2)).toEqual(['google_unlinked', 'google_linked']);
    expect(events.find((e) => e.action === 'google_linked')!.client).toBe('Firefox on Linux');
  });

  it('reports a failed link, not "linked", for an account deleted while the browser was at Google', async () => {
    const user = await signUp(sut.app);
    google.setUser({ sub: `gone-${randomBytes(4).toString('hex')}`, email: user.email });
    const callback = await linkFlow(user);
    expect((await inject({ method: 'DELETE', url: '/api/account', headers: user.headers, payload: { passphrase: PASS } })).statusCode).toBe(204);
    const cb = await inject(callback);
    expect(cb.statusCode).toBe(302);
    expect(cb.headers.location).toBe('/settings?error=account_not_found');
  });

  it('records wrong passphrases on passphrase change, recovery-key rotation and account deletion', async () => {
    const user = await signUp(sut.app);
    const ua = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
    const headers = { ...user.headers, ...ua };
    const wrong = 'not the passphrase at all';
    expect((await inject({ method: 'POST', url: '/api/auth/passphrase', headers, payload: { current: wrong, next: `${PASS} 2` } })).statusCode).toBe(401);
    expect((await inject({ method: 'POST', url: '/api/auth/recovery-key', headers, payload: { passphrase: wrong } })).statusCode).toBe(401);
    expect((await inject({ method: 'DELETE', url: '/api/account', headers, payload: { passphrase: wrong } })).statusCode).toBe(401);
    const events = await actions(user.headers);
    expect(events.map((e) => e.action).slice(0, 3)).toEqual(['account_deletion_failed', 'recovery_key_rotation_failed', 'passphrase_change_failed']);
    // Each with the coarse client, as a failed sign-in has.
    for (const action of ['account_deletion_failed', 'recovery_key_rotation_failed', 'passphrase_change_failed'])
      expect(events.find((e) => e.action === action)!.client, action).toBe('Firefox on Linux');
    // Nothing of what was typed is kept.
    expect(await sut.dumpDatabase()).not.toContain(wrong);
  });

  it('spends cv_pending with the first successful unlock: the same value opens nothing more', async () => {
    google.setUser({ sub: `pending-${randomBytes(4).toString('hex')}`, email: `p-${randomBytes(4).toString('hex')}@example.com` });
    const signIn = async () => {
      const start = await inject({ method: 'GET', url: '/api/auth/google' });
      const cb = await inject({ method: 'GET', url: await providerRedirect(start.headers.location as string), headers: { cookie: cookies(start) } });
      return { location: cb.headers.location, cookie: cookies(cb) };
    };
    const first = await signIn();
    expect(first.location).toBe('/welcome');
    const pending = first.cookie.split('; ').find((c) => c.startsWith('cv_pending='))!;
    const reg = await inject({ method: 'POST', url: '/api/auth/google/register', headers: { cookie: pending }, payload: { passphrase: PASS } });
    expect(reg.statusCode).toBe(201);
    const reused = await inject({ method: 'POST', url: '/api/auth/google/register', headers: { cookie: pending }, payload: { passphrase: PASS } });
    expect(reused.statusCode).toBe(401);

    const again = await signIn();
    expect(again.location).toBe('/unlock');
    const unlockCookie = again.cookie.split('; ').find((c) => c.startsWith('cv_pending='))!;
    const unlock = () => inject({ method: 'POST', url: '/api/auth/unlock', headers: { cookie: unlockCookie }, payload: { passphrase: PASS } });
    // A mistyped passphrase does not spend it.
    const typo = await inject({ method: 'POST', url: '/api/auth/unlock', headers: { cookie: unlockCookie }, payload: { passphrase: 'a typo in it' } });
    expect(typo.statusCode).toBe(401);
    expect((await unlock()).statusCode).toBe(200);
    const replay = await unlock();
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('no_pending_sign_in');
    expect(replay.headers['set-cookie']?.toString() ?? '').not.toContain('cv_session=');
  });

  it("locks a Google unlock for the guessing address only, and names the owner's client", async () => {
    const email = `lock-${randomBytes(4).toString('hex')}@example.com`;
    google.setUser({ sub: `lock-${randomBytes(4).toString('hex')}`, email });
    const signIn = async () => {
      const start = await inject({ method: 'GET', url: '/api/auth/google' });
      const cb = await inject({ method: 'GET', url: await providerRedirect(start.headers.location as string), headers: { cookie: cookies(start) } });
      return cb.headers['set-cookie']!.toString().match(/cv_pending=[^;]+/)![0];
    };
    const reg = await inject({ method: 'POST', url: '/api/auth/google/register', headers: { cookie: await signIn() }, payload: { passphrase: PASS } });
    expect(reg.statusCode).toBe(201);
    // Someone elsewhere guesses this account's passphrase until that address is locked.
    for (let i = 0; i < 8; i++)
      await inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '192.0.2.7', payload: { email, passphrase: `wrong guess ${i}` } });
    const unlock = await inject({
      method: 'POST',
      url: '/api/auth/unlock',
      remoteAddress: '198.51.100.4',
      headers: { cookie: await signIn(), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' },
      payload: { passphrase: PASS },
    });
    expect(unlock.statusCode).toBe(200);
    const session = unlock.headers['set-cookie']!.toString().match(/cv_session=[^;]+/)![0];
    const events = (await inject({ method: 'GET', url: '/api/activity', headers: { cookie: session } })).json().events as Array<{
      action: string;
      client?: string;
    }>;
    expect(events.find((e) => e.action === 'login')?.client).toBe('Firefox on Linux');
  });
});
