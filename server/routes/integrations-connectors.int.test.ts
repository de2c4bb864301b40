import { randomBytes, randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSmartServer, type SmartServer } from '../../test-support/integrations/epic/smart-server.js';
import { startFakeGoogleHealthServer, type FakeGoogleHealthServer } from '../../test-support/integrations/google-health/fake-server.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { startOidcProvider, type OidcProvider } from '../../test-support/server/oidc-provider.js';
import { openDatabase } from '../db/index.js';

// Connect attempts side by side, rate limits with a long Retry-After, which connection an
// activity entry is about, and "Sync now" after a restart that left a sync behind.

const PUBLIC = 'http://localhost:8080';
const GOOGLE_ID = 'cv-google-client';
const GOOGLE_SECRET = `gsecret-${randomBytes(8).toString('hex')}`;
const EPIC_ID = 'cv-epic-client';
const EPIC_SECRET = `esecret-${randomBytes(8).toString('hex')}`;

/**
 * A browser's cookie jar over inject responses: a cookie goes back only to the paths its Path
 * attribute matches (RFC 6265 §5.1.4), as a browser sends it.
 */
class Jar {
  readonly cookies = new Map<string, { value: string; path: string; maxAge: number | null }>();
  take(res: LightMyRequestResponse): void {
    const raw = res.headers['set-cookie'];
    for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair, ...attrs] = c.split(';').map((a) => a.trim());
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(`${n.toLowerCase()}=`))?.slice(n.length + 1);
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, { value, path: attr('Path') ?? '/', maxAge: attr('Max-Age') === undefined ? null : Number(attr('Max-Age')) });
    }
  }
  /** The Cookie header for a request to `url` (every cookie when none is given). */
  header(url?: string): string {
    const path = url === undefined ? undefined : new URL(url, PUBLIC).pathname;
    const matches = (p: string) => path === undefined || path === p || (path.startsWith(p) && (p.endsWith('/') || path[p.length] === '/'));
    return [...this.cookies]
      .filter(([, c]) => matches(c.path))
      .map(([k, c]) => `${k}=${c.value}`)
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

describe.each(dbTargets())('connectors (%s)', (target) => {
  let sut: TestServer;
  let google: OidcProvider;
  let smart: SmartServer;
  let health: FakeGoogleHealthServer;
  const healthToken = `ghat-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    google = await startOidcProvider({
      clientId: GOOGLE_ID,
      clientSecret: GOOGLE_SECRET,
      redirectUris: [`${PUBLIC}/api/integrations/google_health/callback`],
      email: 'ada@example.com',
      sub: 'google-sub-1',
      accessToken: () => healthToken,
    });
    smart = await startSmartServer({ clients: [{ clientId: EPIC_ID, clientSecret: EPIC_SECRET, redirectUris: [`${PUBLIC}/api/integrations/epic/callback`] }] });
    health = await startFakeGoogleHealthServer({ accessToken: healthToken });
    sut = await startTestServer(target, {
      PUBLIC_URL: PUBLIC,
      ALLOW_HTTP_LOOPBACK: '1',
      GOOGLE_CLIENT_ID: GOOGLE_ID,
      GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
      GOOGLE_ISSUER: google.issuer,
      GOOGLE_HEALTH_API_URL: health.url,
      EPIC_CLIENT_ID: EPIC_ID,
      EPIC_CLIENT_SECRET: EPIC_SECRET,
      EPIC_FHIR_BASE_URLS: smart.fhirBase,
      SYNC_COOLDOWN_S: '0',
    });
  });
  afterAll(async () => {
    await sut?.dispose();
    await Promise.all([google?.close(), smart?.close(), health?.close()]);
  });

  const inject = (o: InjectOptions) => sut.app.inject(o);
  const svc = () => sut.app.integrations!;
  const epicConnect = () => `/api/integrations/epic/connect?endpoint=${encodeURIComponent(smart.fhirBase)}`;

  /** Starts a connect in `jar`'s browser (session cookie and all it holds for the path); returns the provider's authorize URL. */
  async function begin(user: { headers: { cookie: string } }, jar: Jar, url: string): Promise<string> {
    const cookie = [user.headers.cookie, jar.header(url)].filter(Boolean).join('; ');
    const r = await inject({ method: 'GET', url, headers: { cookie } });
    expect(r.statusCode).toBe(302);
    jar.take(r);
    return r.headers.location as string;
  }
  /** The provider's redirect back, with the browser's cookies for it; returns where the browser is sent. */
  async function callback(jar: Jar, path: string): Promise<string> {
    const r = await inject({ method: 'GET', url: path, headers: { cookie: jar.header(path) } });
    jar.take(r);
    return r.headers.location as string;
  }
  async function connectEpic(user: { headers: { cookie: string } }) {
    const jar = new Jar();
    expect(await callback(jar, await providerRedirect(await begin(user, jar, epicConnect())))).toBe('/connections?provider=epic&connected=1');
    await svc().whenIdle();
  }
  async function syncNow(user: { headers: { cookie: string } }, provider = 'epic') {
    const r = await inject({ method: 'POST', url: `/api/integrations/${provider}/sync`, headers: user.headers });
    expect(r.statusCode).toBe(202);
    await svc().whenIdle();
    return (await inject({ method: 'GET', url: `/api/jobs/${r.json().jobId}`, headers: user.headers })).json();
  }
  const integration = async (user: { headers: { cookie: string } }, provider: string) =>
    (await inject({ method: 'GET', url: '/api/integrations', headers: user.headers }))
      .json()
      .integrations.find((i: { provider: string }) => i.provider === provider);

  /** Opens the database beside the running server (PGlite: stop it first). */
  async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }

  it('finishes connects started side by side in one browser, each on its own, each once', async () => {
    const user = await signUp(sut.app);
    const jar = new Jar();
    // Epic in two tabs and Google Health in a third, all before any provider answered.
    const epicA = await begin(user, jar, epicConnect());
    const epicB = await begin(user, jar, epicConnect());
    const googleC = await begin(user, jar, '/api/integrations/google_health/connect');
    const [cbA, cbB, cbC] = [await providerRedirect(epicA), await providerRedirect(epicB), await providerRedirect(googleC)];

    expect(await callback(jar, cbA)).toBe('/connections?provider=epic&connected=1');
    expect(await callback(jar, cbC)).toBe('/connections?provider=google_health&connected=1');
    expect(await callback(jar, cbB)).toBe('/connections?provider=epic&connected=1');
    // Each attempt's state is single-use: a replayed callback finds nothing to finish.
    expect(await callback(jar, cbA)).toBe('/connections?provider=epic&error=state_mismatch');
    expect([...jar.cookies.keys()].filter((k) => k.startsWith('cv_oauth_'))).toEqual([]);
    await svc().whenIdle();
    expect((await integration(user, 'epic')).status).toBe('connected');
    expect((await integration(user, 'google_health')).status).toBe('connected');
  });

  it('keeps the flow cookies of abandoned connects few and short-lived, and the newest ones still finish', async () => {
    const user = await signUp(sut.app);
    const jar = new Jar();
    // A page that keeps sending the browser to Connect, never finishing at the provider.
    const googleC = await begin(user, jar, '/api/integrations/google_health/connect');
    const attempts: string[] = [];
    for (let i = 0; i < 40; i++) attempts.push(await begin(user, jar, epicConnect()));

    const flows = (provider: string) => [...jar.cookies].filter(([k]) => new RegExp(`^cv_oauth_${provider}_[\\w-]{16}$`).test(k));
    expect(flows('epic').length).toBeGreaterThanOrEqual(2);
    expect(flows('epic').length).toBeLessThanOrEqual(5);
    for (const [name, c] of flows('epic')) {
      expect(c.maxAge, name).toBeGreaterThan(0);
      expect(c.maxAge, name).toBeLessThanOrEqual(600);
    }
    // Another provider's attempt is not pushed out by these.
    expect(flows('google_health')).toHaveLength(1);
    // Far below Node's 16 KiB header limit, however often Connect is pressed.
    const cookieHeader = [user.headers.cookie, jar.header('/api/integrations/epic/callback')].join('; ');
    expect(cookieHeader.length).toBeLessThan(4096);

    // The newest two (two tabs) still finish; one long since pushed out finds nothing to finish.
    expect(await callback(jar, await providerRedirect(attempts.at(-1)!))).toBe('/connections?provider=epic&connected=1');
    expect(await callback(jar, await providerRedirect(attempts.at(-2)!))).toBe('/connections?provider=epic&connected=1');
    expect(await callback(jar, await providerRedirect(attempts[0]!))).toBe('/connections?provider=epic&error=state_mismatch');
    expect(await callback(jar, await providerRedirect(googleC))).toBe('/connections?provider=google_health&connected=1');
    await svc().whenIdle();
  });

  it('ends a sync Epic rate-limits for longer than it waits with the time to try again, and schedules the next one after it', async () => {
    const user = await signUp(sut.app);
    await connectEpic(user);
    const asked = Date.now();
    smart.rateLimitFhir(1, 120);
    try {
      const job = await syncNow(user);
      expect(job.status).toBe('failed');
      expect(job.errorCode).toBe('rate_limited');
      const m = /try again after (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC/.exec(job.error as string);
      expect(m, job.error).not.toBeNull();
      expect(Date.parse(`${m![1]}:00Z`)).toBeGreaterThanOrEqual(asked + 120_000 - 60_000);
      const integ = await integration(user, 'epic');
      expect(integ.status).toBe('error');
      expect(integ.error.message).toBe(job.error);
    } finally {
      smart.rateLimitFhir(0);
    }
    const next = await (async () => {
      if (target === 'pglite') await sut.stop();
      try {
        return await withDb((db) =>
          sql<{ next_sync_at: Date }>`select next_sync_at from integrations where user_id = ${user.user.id} and provider = 'epic'`.execute(db),
        );
      } finally {
        if (target === 'pglite') await sut.restart();
      }
    })();
    expect(new Date(next.rows[0]!.next_sync_at).getTime()).toBeGreaterThanOrEqual(asked + 120_000);
  });

  it('refuses "Sync now" until the time Epic asked for has passed, without asking Epic again', async () => {
    const user = await signUp(sut.app);
    await connectEpic(user);
    smart.rateLimitFhir(1, 120);
    let told: string;
    try {
      const job = await syncNow(user);
      expect(job.errorCode).toBe('rate_limited');
      told = /try again after (\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)/.exec(job.error as string)![1]!;
    } finally {
      smart.rateLimitFhir(0);
    }
    const seen = smart.fhirRequests.length;
    const refused = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(refused.json().error.message).toContain(`try again after ${told}`);
    expect(refused.json().error.message).toMatch(/^Epic is limiting how often this app may read/);
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(60);
    expect(wait).toBeLessThanOrEqual(120);
    await svc().whenIdle();
    expect(smart.fhirRequests.length).toBe(seen);
    expect((await integration(user, 'epic')).error.code).toBe('rate_limited');

    // Once that time has passed, "Sync now" runs again.
    const real = Date.now;
    const later = real() + 121_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => later);
    let accepted;
    try {
      accepted = await inject({ method: 'POST', url: '/api/integrations/epic/sync', headers: user.headers });
    } finally {
      clock.mockRestore();
    }
    expect(accepted.statusCode).toBe(202);
    await svc().whenIdle();
    const job = (await inject({ method: 'GET', url: `/api/jobs/${accepted.json().jobId}`, headers: user.headers })).json();
    expect(job.status).toBe('done');
    expect((await integration(user, 'epic')).status).toBe('connected');
  });

  it('names the connection in the activity entries of a connect, a sync and a disconnect', async () => {
    const user = await signUp(sut.app);
    await connectEpic(user);
    expect((await syncNow(user)).status).toBe('done');
    expect((await inject({ method: 'DELETE', url: '/api/integrations/epic', headers: user.headers })).statusCode).toBe(204);
    const events = (await inject({ method: 'GET', url: '/api/activity?limit=50', headers: user.headers })).json().events as Array<{
      action: string;
      connection?: { provider: string; label: string; id: string };
    }>;
    const about = events.filter((e) => e.action.startsWith('integration_'));
    expect(about.map((e) => e.action)).toEqual(['integration_disconnected', 'integration_synced', 'integration_synced', 'integration_connected']);
    const ids = new Set(about.map((e) => e.connection?.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    for (const e of about) expect(e.connection, e.action).toEqual(expect.objectContaining({ provider: 'epic', label: 'Epic' }));
  });

  it('answers "Sync now" after a restart with a sync that runs, not the one the stopped server left behind', async () => {
    const user = await signUp(sut.app);
    await connectEpic(user);
    // The old process died mid-sync: its row is still running, under a lease it no longer renews.
    await sut.stop();
    const left = randomUUID();
    await withDb((db) =>
      sql`insert into jobs (id, user_id, kind, status, progress, started_at, heartbeat_at, attempts, lease_owner, lease_until)
          values (${left}, ${user.user.id}, 'sync:epic', 'running', '{"done":0,"total":1,"unit":"syncs"}', now(), now(), 1, 'the-stopped-process',
                  now() + interval '15 seconds')`.execute(db),
    );
    await sut.restart();
    const job = await syncNow(user);
    expect(job.status).toBe('done');
    expect(job.result.imported.Condition).toBeGreaterThan(0);
  });

  it('keeps an access token Epic echoes in an error out of what the person and the database see', async () => {
    const user = await signUp(sut.app);
    await connectEpic(user);
    smart.misbehaviour = 'echo-token';
    try {
      const job = await syncNow(user);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/\[redacted\]/);
      const tokens = smart.auth.issuedSecrets();
      for (const t of tokens) expect(job.error).not.toContain(t);
      await sut.stop();
      const dump = await sut.dumpDatabase();
      await sut.restart();
      for (const t of tokens) expect(dump.includes(t), 'a token was stored').toBe(false);
    } finally {
      smart.misbehaviour = null;
    }
  });
});
