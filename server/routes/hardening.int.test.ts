import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/index.js';
import { craftedScryptAge } from '../../test-support/crypto/age-header.js';
import { cookieFrom, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { expectLoopStayedFree, longestStall } from '../../test-support/crypto/stall.js';

/** Issue 11: throttles, proxies, routing of encoded paths, session purge, cookie prefix, metrics. */
describe.each(dbTargets())('hardening (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target, { METRICS_TOKEN: 'metrics-token-0123456789' });
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('answers 429 to concurrent wrong guesses: the attempt is reserved before the key is derived', async () => {
    const user = await signUp(sut.app);
    const guesses = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: `wrong guess number ${i}` } }),
      ),
    );
    const codes = guesses.map((r) => r.statusCode);
    // 5 free failures and the one that sets the lock derive a key; every other guess is refused.
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(6);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(18);
    expect(codes.every((c) => c === 401 || c === 429)).toBe(true);
  });

  it('applies the API checks to a percent-encoded /api/ path', async () => {
    const user = await signUp(sut.app);
    const me = await sut.app.inject({ method: 'GET', url: '/%61pi/auth/me', headers: user.headers });
    expect(me.statusCode).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    const foreign = await sut.app.inject({
      method: 'POST',
      url: '/%61pi/items',
      headers: { ...user.headers, origin: 'https://evil.example' },
      payload: { title: 'x' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden_origin');
    const login = await sut.app.inject({
      method: 'POST',
      url: '/%61pi/auth/login',
      headers: { origin: 'https://evil.example' },
      payload: { email: user.email, passphrase: user.passphrase },
    });
    expect(login.statusCode).toBe(403);
    expect(login.headers['set-cookie']).toBeUndefined();
  });

  it('compares the metrics token (wrong token of the same length refused)', async () => {
    expect((await sut.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const wrong = await sut.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456788' } });
    expect(wrong.statusCode).toBe(401);
    const ok = await sut.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.statusCode).toBe(200);
  });

  it('rotates the recovery key: passphrase required, the old key refused, the new one opens the vault', async () => {
    const user = await signUp(sut.app);
    await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'kept', text: 'after rotation' } });
    const anon = await sut.app.inject({ method: 'POST', url: '/api/auth/recovery-key', payload: { passphrase: user.passphrase } });
    expect(anon.statusCode).toBe(401);
    const wrong = await sut.app.inject({ method: 'POST', url: '/api/auth/recovery-key', headers: user.headers, payload: { passphrase: 'not my passphrase' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');

    const rotated = await sut.app.inject({ method: 'POST', url: '/api/auth/recovery-key', headers: user.headers, payload: { passphrase: user.passphrase } });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const { recoveryKey } = rotated.json() as { recoveryKey: string };
    expect(recoveryKey).toMatch(/^CV1-/);
    expect(recoveryKey).not.toBe(user.recoveryKey);
    expect(sut.logs()).not.toContain(recoveryKey);

    const old = await sut.app.inject({
      method: 'POST',
      url: '/api/auth/recover',
      payload: { email: user.email, recoveryKey: user.recoveryKey, next: 'a brand new passphrase' },
    });
    expect(old.statusCode).toBe(401);
    const rec = await sut.app.inject({ method: 'POST', url: '/api/auth/recover', payload: { email: user.email, recoveryKey, next: 'a brand new passphrase' } });
    expect(rec.statusCode).toBe(200);
    const items = await sut.app.inject({ method: 'GET', url: '/api/items', headers: { cookie: cookieFrom(rec.headers['set-cookie']) } });
    expect(items.json().items.map((i: { text: string }) => i.text)).toContain('after rotation');
  });

  it('deletes expired sessions at start-up and keeps live ones', async () => {
    const expired = await signUp(sut.app);
    const live = await signUp(sut.app);
    await sut.stop();
    const dbOpts = () => (target === 'postgres' ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    let { db } = await openDatabase(dbOpts());
    await sql`update sessions set expires_at = now() - interval '1 hour' where user_id = ${expired.user.id}`.execute(db);
    await db.destroy();
    await sut.restart();
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: live.headers })).statusCode).toBe(200);
    await sut.stop();
    ({ db } = await openDatabase(dbOpts()));
    const rows = await sql<{ user_id: string }>`select user_id from sessions where user_id in (${expired.user.id}, ${live.user.id})`.execute(db);
    await db.destroy();
    await sut.restart();
    expect(rows.rows.map((r) => r.user_id)).toEqual([live.user.id]);
  });
});

describe.each(dbTargets())('age passphrase work off the event loop (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  /** Runs `work` while another user keeps reading: every read must answer. */
  async function whileOthersRead<T>(work: () => Promise<T>) {
    const other = await signUp(sut.app);
    const item = (await sut.app.inject({ method: 'POST', url: '/api/items', headers: other.headers, payload: { title: 'other', text: 'reads' } })).json();
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const [health, get] = await Promise.all([
          sut.app.inject({ method: 'GET', url: '/health' }),
          sut.app.inject({ method: 'GET', url: `/api/items/${item.id}`, headers: other.headers }),
        ]);
        expect(health.statusCode).toBe(200);
        expect(get.statusCode).toBe(200);
        reads++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      return { ...(await longestStall(work)), reads: () => reads };
    } finally {
      stop = true;
      await reader;
    }
  }

  it('a crafted age header is refused or derived off the loop, and other users are served meanwhile', async () => {
    const user = await signUp(sut.app);
    const post = (file: Buffer) =>
      sut.app.inject({
        method: 'POST',
        url: '/api/import/export',
        ...multipart({ name: 'crafted.age', type: 'application/octet-stream', data: file }, { passphrase: 'a guess at it' }, user.headers),
      });
    // Above the accepted work factor: refused before any derivation starts.
    for (const logN of [20, 30]) {
      const huge = await post(craftedScryptAge(logN));
      expect(huge.statusCode).toBe(422);
      expect(huge.json().error.code).toBe('work_factor_too_high');
    }

    const highest = await whileOthersRead(() => post(craftedScryptAge(19)));
    expect(highest.result.statusCode).toBe(422);
    expect(highest.result.json().error.code).toBe('wrong_key');
    expectLoopStayedFree(highest);
    expect(highest.reads()).toBeGreaterThan(0);
    // One scrypt at the highest accepted work factor (512 MiB): seconds alone, far more on a busy machine.
  }, 180_000);

  it('a passphrase export derives its key off the loop', async () => {
    const user = await signUp(sut.app);
    await sut.app.inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'exported', text: 'body' } });
    const m = await whileOthersRead(() =>
      sut.app.inject({ method: 'POST', url: '/api/export', headers: user.headers, payload: { passphrase: 'an export passphrase' } }),
    );
    expect(m.result.statusCode).toBe(200);
    expect(m.result.rawPayload.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expectLoopStayedFree(m);
    expect(m.reads()).toBeGreaterThan(0);
  });
});

describe.each(dbTargets())('client address behind a proxy (%s)', (target) => {
  // Each request comes from the proxy (127.0.0.1, app.inject's peer) and carries an
  // X-Forwarded-For whose first entries the client wrote; the proxy appended the real address.
  for (const trust of ['1', '127.0.0.1']) {
    it(`TRUST_PROXY=${trust}: a spoofed X-Forwarded-For does not escape the per-IP limit`, async () => {
      const sut = await startTestServer(target, { TRUST_PROXY: trust, RATE_LIMIT_AUTH_PER_MIN: '20' });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 25; i++) {
          // An empty body is refused (400) after the rate limit has counted it: no KDF needed.
          const r = await sut.app.inject({
            method: 'POST',
            url: '/api/auth/login',
            headers: { 'x-forwarded-for': `10.9.${i}.${i}, 203.0.113.7` },
            payload: {},
          });
          codes.push(r.statusCode);
        }
        expect(codes.slice(0, 20).every((c) => c === 400)).toBe(true);
        expect(codes.slice(20)).toEqual([429, 429, 429, 429, 429]);
        // Another real client behind the same proxy still has its own budget.
        const other = await sut.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-forwarded-for': '203.0.113.8' }, payload: {} });
        expect(other.statusCode).toBe(400);
      } finally {
        await sut.dispose();
      }
    });
  }
});

describe('TRUST_PROXY parsing', () => {
  it('refuses "trust everything" and nonsense, accepts hop counts, addresses and CIDRs', () => {
    for (const bad of ['true', 'all', 'yes', 'proxy.example', '10.0.0.0/33']) {
      expect(() => loadConfig({ DATA_DIR: '/tmp/i11-config', TRUST_PROXY: bad })).toThrow(ConfigError);
    }
    expect(loadConfig({ DATA_DIR: '/tmp/i11-config' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ DATA_DIR: '/tmp/i11-config', TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ DATA_DIR: '/tmp/i11-config', TRUST_PROXY: '10.0.0.1, fd00::/8,loopback' }).TRUST_PROXY).toEqual(['10.0.0.1', 'fd00::/8', 'loopback']);
  });
});

describe('session cookie over HTTPS', () => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer('pglite', { PUBLIC_URL: 'https://vault.example' });
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('is named with the __Host- prefix, Secure, Path=/ and no Domain, and signs the user in', async () => {
    const reg = await sut.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'host-prefix@example.com', passphrase: 'a long enough passphrase' },
    });
    expect(reg.statusCode).toBe(201);
    const set = String(reg.headers['set-cookie']);
    expect(set).toMatch(/^__Host-cv_session=/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; Path=\//);
    expect(set).not.toMatch(/Domain=/i);
    const cookie = cookieFrom(reg.headers['set-cookie']);
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(200);
    // The unprefixed name is not read over HTTPS.
    const plain = cookie.replace('__Host-', '');
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: plain } })).statusCode).toBe(401);
  });

  it('takes writes only from PUBLIC_URL once it is set: an Origin matching a forged Host (DNS rebinding) is refused', async () => {
    const payload = { email: 'rebind@example.com', passphrase: 'a long enough passphrase' };
    const rebound = await sut.app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'evil.example', origin: 'http://evil.example' }, payload });
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json().error).toEqual({ code: 'forbidden_origin', message: expect.stringContaining('https://vault.example') });
    const own = await sut.app.inject({ method: 'POST', url: '/api/auth/login', headers: { host: 'vault.example', origin: 'https://vault.example' }, payload });
    expect(own.statusCode).toBe(401);
  });

  it('warns at start-up that sign-up is open on a public address', () => {
    expect(sut.logs()).toContain('SIGNUP=open on a public address');
  });
});
