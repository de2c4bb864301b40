import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_PATIENT_ID, startSmartServer, type SmartServer } from '../../test-support/integrations/epic/smart-server.js';
import { startFakeGoogleHealthServer, type FakeGoogleHealthServer } from '../../test-support/integrations/google-health/fake-server.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startOidcProvider, type OidcProvider } from '../../test-support/server/oidc-provider.js';

const PUBLIC = 'http://localhost:8080';
const GOOGLE_ID = 'cv-google-client';
const GOOGLE_SECRET = `gsecret-${randomBytes(8).toString('hex')}`;
const EPIC_ID = 'cv-epic-client';
const EPIC_SECRET = `esecret-${randomBytes(8).toString('hex')}`;
const PASS = 'correct horse battery staple';

/** A tiny cookie jar over inject responses. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(res: LightMyRequestResponse): void {
    const raw = res.headers['set-cookie'];
    for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(only?: string[]): string {
    return [...this.cookies]
      .filter(([k]) => !only || only.includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }
}

/** Follows the provider's /authorize redirect for real; returns the callback path it sends the browser to. */
async function providerRedirect(authorizeUrl: string): Promise<string> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const to = new URL(res.headers.get('location')!);
  expect(to.origin).toBe(PUBLIC);
  return `${to.pathname}${to.search}`;
}

describe.each(dbTargets())('Google sign-in and health integrations (%s)', (target) => {
  let sut: TestServer;
  let google: OidcProvider;
  let smart: SmartServer;
  let evilSmart: SmartServer;
  let privateSmart: SmartServer;
  let health: FakeGoogleHealthServer;
  const healthToken = `ghat-${randomBytes(8).toString('hex')}`;
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    google = await startOidcProvider({
      clientId: GOOGLE_ID,
      clientSecret: GOOGLE_SECRET,
      redirectUris: [`${PUBLIC}/api/auth/google/callback`, `${PUBLIC}/api/integrations/google_health/callback`],
      email: 'ada@example.com',
      sub: 'google-sub-1',
      accessToken: () => healthToken,
    });
    const clients = [{ clientId: EPIC_ID, clientSecret: EPIC_SECRET, redirectUris: [`${PUBLIC}/api/integrations/epic/callback`] }];
    smart = await startSmartServer({ clients });
    evilSmart = await startSmartServer({ clients, configOverride: () => ({ token_endpoint: 'https://169.254.169.254/latest/meta-data/token' }) });
    privateSmart = await startSmartServer({ clients, configOverride: () => ({ token_endpoint: 'https://10.0.0.7/oauth2/token' }) });
    health = await startFakeGoogleHealthServer({ accessToken: healthToken, defaultPageSize: 4 });
    sut = await startTestServer(target, {
      PUBLIC_URL: PUBLIC,
      ALLOW_HTTP_LOOPBACK: '1',
      GOOGLE_CLIENT_ID: GOOGLE_ID,
      GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
      GOOGLE_ISSUER: google.issuer,
      GOOGLE_HEALTH_API_URL: health.url,
      EPIC_CLIENT_ID: EPIC_ID,
      EPIC_CLIENT_SECRET: EPIC_SECRET,
      EPIC_FHIR_BASE_URLS: [smart.fhirBase, evilSmart.fhirBase, privateSmart.fhirBase].join(','),
    });
    // These tests sync again and again on purpose; the cooldown has its own test.
    sut.app.integrations!.opts.manualSyncCooldownMs = 0;
  });
  afterAll(async () => {
    await sut?.dispose();
    await Promise.all([google?.close(), smart?.close(), evilSmart?.close(), privateSmart?.close(), health?.close()]);
  });

  const inject = (o: InjectOptions) => sut.app.inject(o);
  /** A restart builds a new service, back on the default sync cooldown. */
  const restart = async () => {
    await sut.restart();
    sut.app.integrations!.opts.manualSyncCooldownMs = 0;
  };
  const svc = () => sut.app.integrations!;

  /** Runs /api/auth/google through the provider and back; returns the callback's answer. */
  async function googleSignIn(jar: Jar, tamper?: (callbackPath: string) => string) {
    const start = await inject({ method: 'GET', url: '/api/auth/google' });
    expect(start.statusCode).toBe(302);
    jar.take(start);
    const authorize = new URL(start.headers.location as string);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    let cb = await providerRedirect(authorize.toString());
    secretsSeen.push(new URL(cb, PUBLIC).searchParams.get('code') ?? '');
    if (tamper) cb = tamper(cb);
    const res = await inject({ method: 'GET', url: cb, headers: { cookie: jar.header() } });
    jar.take(res);
    return res;
  }

  describe('Sign in with Google', () => {
    it('asks a new identity for a passphrase, then makes the returning one unlock', async () => {
      google.setUser({ sub: 'google-sub-new', email: 'new-person@example.com' });
      const jar = new Jar();
      const cb = await googleSignIn(jar);
      expect(cb.statusCode).toBe(302);
      expect(cb.headers.location).toBe('/welcome');
      expect(jar.cookies.has('cv_pending')).toBe(true);
      expect(jar.cookies.has('cv_session')).toBe(false);
      // The pending cookie opens nothing.
      expect((await inject({ method: 'GET', url: '/api/items', headers: { cookie: jar.header() } })).statusCode).toBe(401);

      const reg = await inject({ method: 'POST', url: '/api/auth/google/register', headers: { cookie: jar.header() }, payload: { passphrase: PASS } });
      expect(reg.statusCode).toBe(201);
      expect(reg.json().user.email).toBe('new-person@example.com');
      expect(reg.json().recoveryKey).toBeTruthy();
      jar.take(reg);
      expect((await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: jar.header(['cv_session']) } })).statusCode).toBe(200);

      const again = new Jar();
      const cb2 = await googleSignIn(again);
      expect(cb2.headers.location).toBe('/unlock');
      const wrong = await inject({
        method: 'POST',
        url: '/api/auth/unlock',
        headers: { cookie: again.header() },
        payload: { passphrase: 'not the passphrase!' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['set-cookie'] ?? '').not.toContain('cv_session=');
      const ok = await inject({ method: 'POST', url: '/api/auth/unlock', headers: { cookie: again.header() }, payload: { passphrase: PASS } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().user.email).toBe('new-person@example.com');
      // A second Google registration of the same identity is refused.
      const dup = await inject({ method: 'POST', url: '/api/auth/google/register', headers: { cookie: again.header() }, payload: { passphrase: PASS } });
      expect([401, 409]).toContain(dup.statusCode);
    });

    it('refuses a forged state, a denied consent and tampered id_tokens', async () => {
      google.setUser({ sub: 'google-sub-forge', email: 'forge@example.com' });
      const forged = await googleSignIn(new Jar(), (p) => p.replace(/state=[^&]+/, `state=${randomBytes(32).toString('base64url')}`));
      expect(forged.headers.location).toBe('/signin?error=state_mismatch');
      expect(forged.headers['set-cookie']?.toString() ?? '').not.toContain('cv_pending=ey');

      const noCookie = await googleSignIn(new Jar(), (p) => p);
      expect(noCookie.headers.location).toBe('/welcome');

      google.consent = 'deny';
      const denied = await googleSignIn(new Jar());
      google.consent = 'approve';
      expect(denied.headers.location).toBe('/signin?error=access_denied');

      for (const forgery of ['alg-none', 'wrong-aud', 'wrong-nonce', 'bad-signature', 'wrong-issuer', 'expired', 'foreign-key'] as const) {
        google.forgeNextIdToken(forgery);
        const jar = new Jar();
        const res = await googleSignIn(jar);
        expect(res.headers.location, forgery).toBe('/signin?error=invalid_id_token');
        expect(jar.cookies.has('cv_pending'), forgery).toBe(false);
      }
    });

    it('links Google to a passphrase account and unlinks it', async () => {
      const user = await signUp(sut.app);
      google.setUser({ sub: 'google-sub-link', email: user.email });
      const jar = new Jar();
      const start = await inject({ method: 'POST', url: '/api/auth/google/link', headers: user.headers });
      expect(start.statusCode).toBe(200);
      jar.take(start);
      const cb = await inject({ method: 'GET', url: await providerRedirect(start.json().url), headers: { cookie: jar.header() } });
      expect(cb.headers.location).toBe('/settings?google=linked');
      expect((await inject({ method: 'GET', url: '/api/auth/google/link', headers: user.headers })).json()).toEqual({ configured: true, linked: true });
      const signin = await googleSignIn(new Jar());
      expect(signin.headers.location).toBe('/unlock');
      expect((await inject({ method: 'DELETE', url: '/api/auth/google/link', headers: user.headers })).statusCode).toBe(204);
      expect((await googleSignIn(new Jar())).headers.location).toBe('/welcome');
    });
  });

  describe('Epic over SMART on FHIR', () => {
    /** Connects the user's Epic account through real redirects; returns the callback's Location. */
    async function connect(user: { headers: { cookie: string } }, base = smart.fhirBase, tamper?: (p: string) => string) {
      const start = await inject({ method: 'GET', url: `/api/integrations/epic/connect?endpoint=${encodeURIComponent(base)}`, headers: user.headers });
      if (start.statusCode !== 302) return { start };
      const jar = new Jar();
      jar.take(start);
      const authorize = new URL(start.headers.location as string);
      let cb = await providerRedirect(authorize.toString());
      secretsSeen.push(new URL(cb, PUBLIC).searchParams.get('code') ?? '');
      if (tamper) cb = tamper(cb);
      // The session cookie is SameSite=Strict: it does not come back on the provider's redirect.
      const res = await inject({ method: 'GET', url: cb, headers: { cookie: jar.header() } });
      return { start, authorize, res };
    }

    it('connects with PKCE, syncs while the user is away, and the data appears only after sign-in, once', async () => {
      const user = await signUp(sut.app);
      const { authorize, res } = await connect(user);
      expect(authorize!.searchParams.get('scope')!.split(' ')).toEqual(
        expect.arrayContaining(['launch/patient', 'openid', 'fhirUser', 'offline_access', 'patient/*.read']),
      );
      expect(authorize!.searchParams.get('aud')).toBe(smart.fhirBase);
      expect(res!.statusCode).toBe(302);
      expect(res!.headers.location).toBe('/connections?provider=epic&connected=1');
      // Sign out before the sync lands: the worker has no vault key to use.
      expect((await inject({ method: 'POST', url: '/api/auth/logout', headers: user.headers })).statusCode).toBe(204);
      await svc().whenIdle();
      const vitalPages = smart.fhirRequests.filter((r) => r.path === '/Observation' && r.status === 200).length;
      expect(vitalPages).toBeGreaterThanOrEqual(4); // 120+ vital signs at 50 a page, plus labs

      // PGlite allows one process on its files: stop the server to read the raw rows.
      await sut.stop();
      const dump = await sut.dumpDatabase();
      await restart();
      expect(dump).toMatch(/-- inbox\n\(/);
      for (const canary of ['Emmerich580', 'Augustus49', 'Hemoglobin']) expect(dump).not.toContain(canary);

      const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
      expect(login.statusCode).toBe(200);
      const cookie = login.headers['set-cookie']!.toString().split(';')[0]!;
      const found = await inject({ method: 'GET', url: '/api/search?q=Emmerich580', headers: { cookie } });
      expect(found.statusCode).toBe(200);
      expect(found.json().results.length).toBeGreaterThan(0);
      const count = async () => {
        let n = 0;
        let cursor: string | null = null;
        do {
          const page: LightMyRequestResponse = await inject({
            method: 'GET',
            url: `/api/items?source=epic&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
            headers: { cookie },
          });
          n += page.json().items.length;
          cursor = page.json().nextCursor;
        } while (cursor);
        return n;
      };
      const before = await count();
      expect(before).toBeGreaterThan(130);

      const list = await inject({ method: 'GET', url: '/api/integrations', headers: { cookie } });
      expect(list.json().integrations).toEqual([expect.objectContaining({ provider: 'epic', status: 'connected', lastSyncAt: expect.any(String) })]);

      const again = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: { cookie } });
      expect(again.statusCode).toBe(202);
      await svc().whenIdle();
      const job = await inject({ method: 'GET', url: `/api/jobs/${again.json().jobId}`, headers: { cookie } });
      expect(job.json().status).toBe('done');
      await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
      expect(await count()).toBe(before);
      await sut.stop();
      expect(await sut.dumpDatabase()).not.toMatch(/-- inbox\n\(/);
      await restart();

      // Concurrent callers after expiry: one refresh, one rotated token, everyone gets it.
      smart.auth.expireAccessTokens();
      smart.auth.tokenDelayMs = 150;
      const refreshesBefore = smart.auth.stats.refreshes;
      const src = svc().tokenSource(user.user.id, 'epic');
      const tokens = await Promise.all([src.get(), src.get(), src.refresh('stale'), src.get()]);
      smart.auth.tokenDelayMs = 0;
      expect(smart.auth.stats.refreshes - refreshesBefore).toBe(1);
      expect(new Set(tokens).size).toBe(1);
      // The rotated refresh token was saved: a later refresh still works.
      smart.auth.expireAccessTokens();
      const third = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: { cookie } });
      await svc().whenIdle();
      expect((await inject({ method: 'GET', url: `/api/jobs/${third.json().jobId}`, headers: { cookie } })).json().status).toBe('done');
      expect(smart.auth.stats.failedTokenRequests.filter((f) => f.grant === 'refresh_token')).toEqual([]);

      // Rate limited beyond the retries: a sentence to act on, and the integration stays connected.
      smart.rateLimitFhir(20, 1);
      const limited = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: { cookie } });
      await svc().whenIdle();
      const lj = (await inject({ method: 'GET', url: `/api/jobs/${limited.json().jobId}`, headers: { cookie } })).json();
      expect(lj.status).toBe('failed');
      expect(lj.errorCode).toBe('rate_limited');
      expect(lj.kind).toBe('sync:epic');
      // One jobs API: the old integrations-only alias is gone.
      expect((await inject({ method: 'GET', url: `/api/integrations/jobs/${limited.json().jobId}`, headers: { cookie } })).statusCode).toBe(404);
      smart.rateLimitFhir(0);
      // Epic asked for a second's pause: "Sync now" is refused until it has passed.
      await new Promise((r) => setTimeout(r, 1_100));

      // Revoked refresh token: "Epic asked you to sign in again".
      smart.auth.revokeAllRefreshTokens();
      smart.auth.expireAccessTokens();
      await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: { cookie } });
      await svc().whenIdle();
      const after = (await inject({ method: 'GET', url: '/api/integrations', headers: { cookie } })).json().integrations[0];
      expect(after.status).toBe('reauth_required');
      expect(after.error.message).toMatch(/Epic asked you to sign in again/);
      const refused = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: { cookie } });
      expect(refused.statusCode).toBe(409);

      // Reconnect, then disconnect: the token is revoked at Epic and the integration is gone.
      const re = await connect({ headers: { cookie } });
      expect(re.res!.headers.location).toBe('/connections?provider=epic&connected=1');
      await svc().whenIdle();
      const live = smart.auth.liveRefreshTokens();
      const del = await inject({ method: 'DELETE', url: '/api/integrations/epic', headers: { cookie } });
      expect(del.statusCode).toBe(204);
      expect(smart.auth.liveRefreshTokens()).toBe(live - 1);
      expect((await inject({ method: 'GET', url: '/api/integrations', headers: { cookie } })).json().integrations).toEqual([]);
    });

    it('refuses a state mismatch, denied consent, forged id_tokens and unknown endpoints', async () => {
      const user = await signUp(sut.app);
      const mismatch = await connect(user, smart.fhirBase, (p) => p.replace(/state=[^&]+/, 'state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
      expect(mismatch.res!.headers.location).toBe('/connections?provider=epic&error=state_mismatch');

      smart.auth.consent = 'deny';
      const denied = await connect(user);
      smart.auth.consent = 'approve';
      expect(denied.res!.headers.location).toBe('/connections?provider=epic&error=access_denied');

      for (const forgery of ['alg-none', 'wrong-aud', 'wrong-nonce'] as const) {
        smart.auth.forgeNextIdToken(forgery);
        const r = await connect(user);
        expect(r.res!.headers.location, forgery).toBe('/connections?provider=epic&error=invalid_id_token');
      }
      expect((await inject({ method: 'GET', url: '/api/integrations', headers: user.headers })).json().integrations).toEqual([]);

      const unknown = await inject({
        method: 'GET',
        url: `/api/integrations/epic/connect?endpoint=${encodeURIComponent('https://fhir.example.org/R4')}`,
        headers: user.headers,
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.code).toBe('unknown_endpoint');
    });

    /** Asks for a sync and waits for it; returns its job as GET /api/jobs/:id shows it. */
    async function syncNow(user: { headers: { cookie: string } }) {
      const r = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
      expect(r.statusCode).toBe(202);
      await svc().whenIdle();
      return (await inject({ method: 'GET', url: `/api/jobs/${r.json().jobId}`, headers: user.headers })).json();
    }
    const epicIntegration = async (user: { headers: { cookie: string } }) =>
      (await inject({ method: 'GET', url: '/api/integrations', headers: user.headers })).json().integrations[0];

    it('fails a sync on oversized, unreadable or non-search answers, and keeps only the launch patient’s records', async () => {
      const user = await signUp(sut.app);
      expect((await connect(user)).res!.headers.location).toBe('/connections?provider=epic&connected=1');
      await svc().whenIdle();
      const baseline = await syncNow(user);
      expect(baseline.status).toBe('done');
      expect(baseline.result.imported.Condition).toBeGreaterThan(0);
      try {
        // Another patient's records, another type, junk entries: skipped, and the counts say so.
        smart.misbehaviour = 'foreign';
        smart.misbehaviourType = 'Condition';
        const foreign = await syncNow(user);
        expect(foreign.status).toBe('done');
        expect(foreign.result.imported).toEqual(baseline.result.imported);
        smart.misbehaviourType = undefined;

        const cases = [
          ['notbundle', /something other than search results/],
          ['malformed', /not FHIR data/],
          ['html', /not FHIR data/],
          ['huge', /more than 16 MiB/],
          ['loop', /loops back to a page already read/],
        ] as const;
        for (const [mode, message] of cases) {
          smart.misbehaviour = mode;
          const before = smart.fhirRequests.length;
          const job = await syncNow(user);
          expect(job.status, mode).toBe('failed');
          expect(job.errorCode, mode).toBe('provider_error');
          expect(job.error, mode).toMatch(message);
          const integ = await epicIntegration(user);
          expect(integ.status, mode).toBe('error');
          expect(integ.error.message, mode).toMatch(message);
          // A looping `next` is refused at once, not followed up to the page cap.
          if (mode === 'loop') expect(smart.fhirRequests.length - before).toBeLessThan(10);
        }
        // A search cut off at the page cap is reported, not a silent success.
        smart.misbehaviour = 'endless';
        smart.misbehaviourType = 'Condition';
        const capped = await syncNow(user);
        expect(capped.status).toBe('done');
        expect(capped.result.skipped.Condition).toMatch(/more than 500 pages of Condition/);
        const integ = await epicIntegration(user);
        expect(integ).toEqual(expect.objectContaining({ status: 'connected', error: expect.objectContaining({ code: 'incomplete' }) }));
      } finally {
        smart.misbehaviour = null;
        smart.misbehaviourType = undefined;
      }
      expect((await syncNow(user)).status).toBe('done');
      expect((await epicIntegration(user)).error).toBeUndefined();

      // Provider faults are warnings; the provider's own text is copied nowhere.
      const lines = sut.logs().split('\n');
      expect(lines.filter((l) => l.includes('"level":50') && /sync/.test(l))).toEqual([]);
      expect(sut.logs()).not.toContain('PROVIDER-MAINTENANCE-CANARY');
      expect(sut.logs()).not.toContain('Intruder');
      // Nothing of the other patient reached the vault.
      await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
      const found = await inject({ method: 'GET', url: '/api/search?q=Intruder', headers: user.headers });
      expect(found.json().results).toEqual([]);
    });

    it('ends a sync the owner disconnected mid-way as disconnected, not as "sign in again"', async () => {
      const user = await signUp(sut.app);
      await connect(user);
      await svc().whenIdle();
      const hold = smart.holdFhir();
      const r = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
      await hold.reached;
      expect((await inject({ method: 'DELETE', url: '/api/integrations/epic', headers: user.headers })).statusCode).toBe(204);
      hold.release();
      await svc().whenIdle();
      const job = (await inject({ method: 'GET', url: `/api/jobs/${r.json().jobId}`, headers: user.headers })).json();
      expect(job.status).toBe('failed');
      expect(job.errorCode).toBe('disconnected');
      expect(job.error).toMatch(/Epic was disconnected while this sync ran/);
      expect(job.error).not.toMatch(/sign in again/);
      expect((await inject({ method: 'GET', url: '/api/integrations', headers: user.headers })).json().integrations).toEqual([]);
    });

    it('takes a corrected result’s old value out of the daily series, and a withdrawn one’s entirely', async () => {
      const user = await signUp(sut.app);
      const reading = (versionId: string, value: number, status = 'final') => ({
        resourceType: 'Observation',
        id: 'hr-corrected',
        meta: { versionId, lastUpdated: `2031-05-0${versionId}T12:00:00Z` },
        status,
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        subject: { reference: `Patient/${SAMPLE_PATIENT_ID}` },
        // No display: the sample's source is named from the Bundle, which a correction no longer has.
        performer: [{ reference: 'Practitioner/not-in-the-bundle' }],
        effectiveDateTime: '2031-05-04T09:30:00+02:00',
        valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
      });
      const day = async () =>
        (await inject({ method: 'GET', url: '/api/records/series?type=8867-4&from=2031-05-04&to=2031-05-04', headers: user.headers })).json().days as Array<{
          count: number;
          max: number;
        }>;
      const syncUntil = async (done: (days: Array<{ count: number; max: number }>) => boolean) => {
        const r = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
        expect(r.statusCode).toBe(202);
        await svc().whenIdle();
        // The sync's output waits in the inbox until a request of the signed-in owner moves it.
        for (let i = 0; i < 200; i++) {
          await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
          const days = await day();
          if (done(days)) return days;
          await new Promise((res) => setTimeout(res, 25));
        }
        return day();
      };
      smart.addResource(reading('1', 190));
      await connect(user);
      await svc().whenIdle();
      expect(await syncUntil((d) => d.length === 1)).toEqual([expect.objectContaining({ count: 1, max: 190 })]);

      smart.addResource(reading('2', 64));
      expect(await syncUntil((d) => d[0]?.max === 64)).toEqual([expect.objectContaining({ count: 1, max: 64 })]);

      smart.addResource(reading('3', 64, 'entered-in-error'));
      const withdrawn = await syncUntil((d) => (d[0]?.count ?? 0) === 0);
      expect(withdrawn.filter((d) => d.count > 0)).toEqual([]);
    });

    it('revokes the replaced grant on reconnect, and the new grant when the account is gone before the callback', async () => {
      const user = await signUp(sut.app);
      await connect(user);
      await svc().whenIdle();
      const live = smart.auth.liveRefreshTokens();
      const revocations = smart.auth.stats.revocations;
      expect((await connect(user)).res!.headers.location).toBe('/connections?provider=epic&connected=1');
      await svc().whenIdle();
      expect(smart.auth.stats.revocations - revocations).toBe(1);
      expect(smart.auth.liveRefreshTokens()).toBe(live);
      // The new grant is the one kept, and it works.
      expect((await syncNow(user)).status).toBe('done');

      // The account is deleted while its owner is at Epic: the code is exchanged, then given back.
      const gone = await signUp(sut.app);
      const start = await inject({
        method: 'GET',
        url: `/api/integrations/epic/connect?endpoint=${encodeURIComponent(smart.fhirBase)}`,
        headers: gone.headers,
      });
      const jar = new Jar();
      jar.take(start);
      const cb = await providerRedirect(start.headers.location as string);
      const del = await inject({ method: 'DELETE', url: '/api/account', headers: gone.headers, payload: { passphrase: gone.passphrase } });
      expect(del.statusCode).toBe(204);
      const liveBefore = smart.auth.liveRefreshTokens();
      const exchanges = smart.auth.stats.codeExchanges;
      const res = await inject({ method: 'GET', url: cb, headers: { cookie: jar.header() } });
      expect(res.headers.location).toBe('/connections?provider=epic&error=connect_failed');
      expect(smart.auth.stats.codeExchanges - exchanges).toBe(1);
      expect(smart.auth.liveRefreshTokens()).toBe(liveBefore);
      expect(
        sut
          .logs()
          .split('\n')
          .filter((l) => l.includes('"level":50') && /connect/.test(l)),
      ).toEqual([]);
    });

    it('refuses another manual sync right after one the person asked for, with Retry-After', async () => {
      const user = await signUp(sut.app);
      await connect(user);
      await svc().whenIdle();
      svc().opts.manualSyncCooldownMs = 3_600_000;
      try {
        // The sync that connecting started does not count: "Sync now" right after it works.
        expect((await syncNow(user)).status).toBe('done');
        const again = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
        expect(again.statusCode).toBe(429);
        expect(again.json().error.code).toBe('rate_limited');
        expect(again.json().error.message).toMatch(/Epic was synced a moment ago/);
        const wait = Number(again.headers['retry-after']);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(3600);
        // Per user: another person's sync is not held back.
        const other = await signUp(sut.app);
        await connect(other);
        await svc().whenIdle();
        expect((await syncNow(other)).status).toBe('done');
      } finally {
        svc().opts.manualSyncCooldownMs = 0;
      }
    });

    it('refuses discovery documents pointing at link-local or private addresses before sending anything', async () => {
      const user = await signUp(sut.app);
      for (const bad of [evilSmart, privateSmart]) {
        const r = await connect(user, bad.fhirBase);
        expect(r.start.statusCode).toBe(502);
        expect(r.start.json().error.code).toBe('unsafe_endpoint');
        expect(r.start.json().error.message).toMatch(/private or link-local/);
        expect(bad.auth.stats.authorizeRequests).toBe(0);
      }
    });
  });

  describe('Google Health', () => {
    it('connects through Google OAuth, pages through data points past a 429, and lands in the series', async () => {
      const user = await signUp(sut.app);
      const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
      const points = Array.from({ length: 10 }, (_, i) => {
        const iso = new Date(Date.parse(`${day}T08:00:00Z`) + i * 300_000).toISOString();
        return {
          name: `users/me/dataTypes/heart-rate/dataPoints/${i}`,
          dataSource: { device: { displayName: 'Charge 6' } },
          heartRate: { sampleTime: { physicalTime: iso, utcOffset: '0s' }, beatsPerMinute: String(60 + i) },
        };
      });
      health.addDataPoints('heart-rate', points);
      health.rateLimit(1, 0);
      const start = await inject({ method: 'GET', url: '/api/integrations/google_health/connect', headers: user.headers });
      expect(start.statusCode).toBe(302);
      const authorize = new URL(start.headers.location as string);
      expect(authorize.searchParams.get('access_type')).toBe('offline');
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('scope')).toContain('googlehealth.health_metrics_and_measurements.readonly');
      const jar = new Jar();
      jar.take(start);
      const cb = await inject({ method: 'GET', url: await providerRedirect(authorize.toString()), headers: { cookie: jar.header() } });
      expect(cb.headers.location).toBe('/connections?provider=google_health&connected=1');
      await svc().whenIdle();
      const hr = health.requests.filter((r) => r.dataType === 'heart-rate');
      expect(hr.some((r) => r.status === 429)).toBe(true);
      expect(hr.filter((r) => r.pageToken).length).toBeGreaterThanOrEqual(2);

      const list = (await inject({ method: 'GET', url: '/api/integrations', headers: user.headers })).json().integrations;
      expect(list).toEqual([expect.objectContaining({ provider: 'google_health', status: 'connected' })]);
      const series = await inject({
        method: 'GET',
        url: `/api/records/series?type=HKQuantityTypeIdentifierHeartRate&from=${day}&to=${day}`,
        headers: user.headers,
      });
      expect(series.statusCode).toBe(200);
      expect(series.json().days).toEqual([expect.objectContaining({ date: day, count: 10, min: 60, max: 69 })]);

      // A second sync re-reads the look-back window; the day chunk keeps each sample once.
      await inject({ method: 'POST', url: '/api/integrations/google_health/sync', headers: user.headers });
      await svc().whenIdle();
      await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
      const again = await inject({
        method: 'GET',
        url: `/api/records/series?type=HKQuantityTypeIdentifierHeartRate&from=${day}&to=${day}`,
        headers: user.headers,
      });
      expect(again.json().days[0].count).toBe(10);
    });

    it('stops a sync the owner disconnects while Google Health does not answer, and stores nothing after', async () => {
      const user = await signUp(sut.app);
      const start = await inject({ method: 'GET', url: '/api/integrations/google_health/connect', headers: user.headers });
      const jar = new Jar();
      jar.take(start);
      await inject({ method: 'GET', url: await providerRedirect(start.headers.location as string), headers: { cookie: jar.header() } });
      await svc().whenIdle();
      const day = new Date(Date.now() - 3_600_000).toISOString().slice(0, 10);
      health.addDataPoints('heart-rate', [
        {
          name: 'users/me/dataTypes/heart-rate/dataPoints/after-disconnect',
          dataSource: { device: { displayName: 'Charge 6' } },
          heartRate: { sampleTime: { physicalTime: new Date(Date.now() - 3_600_000).toISOString(), utcOffset: '0s' }, beatsPerMinute: '141' },
        },
      ]);
      health.misbehaviour = 'silent';
      try {
        const asked = health.requests.length;
        const r = await inject({ method: 'POST', url: '/api/integrations/google_health/sync', headers: user.headers });
        for (let i = 0; i < 400 && health.requests.length === asked; i++) await new Promise((res) => setTimeout(res, 25));
        expect(health.requests.length).toBeGreaterThan(asked);
        expect((await inject({ method: 'DELETE', url: '/api/integrations/google_health', headers: user.headers })).statusCode).toBe(204);
        health.misbehaviour = null;
        await svc().whenIdle();
        const job = (await inject({ method: 'GET', url: `/api/jobs/${r.json().jobId}`, headers: user.headers })).json();
        expect(job.status).toBe('failed');
        expect(job.errorCode).toBe('disconnected');
      } finally {
        health.misbehaviour = null;
      }
      await inject({ method: 'GET', url: '/api/auth/me', headers: user.headers });
      const series = await inject({
        method: 'GET',
        url: `/api/records/series?type=HKQuantityTypeIdentifierHeartRate&from=${day}&to=${day}`,
        headers: user.headers,
      });
      expect(series.json().days.filter((d: { max: number }) => d.max === 141)).toEqual([]);
    }, 60_000);
  });

  it('never writes a token, code, verifier or client secret into the logs', async () => {
    const logs = sut.logs();
    const all = [...google.issuedSecrets(), ...smart.auth.issuedSecrets(), ...secretsSeen.filter(Boolean), GOOGLE_SECRET, EPIC_SECRET, healthToken];
    expect(all.length).toBeGreaterThan(10);
    for (const s of all) expect(logs.includes(s), 'a secret was logged').toBe(false);
    expect(logs).not.toMatch(/code_verifier|refresh_token=|access_token=/);
  });
});
