import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { cookieFrom, dbTargets, startTestServer, type TestServer } from '../../test-support/server/harness.js';

const run = promisify(execFile);
const register = (sut: TestServer, email: string, inviteCode?: string) =>
  sut.app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email, passphrase: 'a long enough passphrase', ...(inviteCode ? { inviteCode } : {}) },
  });

describe.each(dbTargets())('sign-up policy (%s)', (target) => {
  describe('SIGNUP=invite', () => {
    let sut: TestServer;
    beforeAll(async () => {
      sut = await startTestServer(target, { SIGNUP: 'invite' });
    });
    afterAll(async () => {
      await sut?.dispose();
    });

    it('needs a valid single-use code from `npm run invite` or an admin, and says nothing about existing accounts', async () => {
      expect((await sut.app.inject({ method: 'GET', url: '/api/auth/signup' })).json()).toEqual({ signup: 'invite' });
      const none = await register(sut, 'first@example.com');
      expect(none.statusCode).toBe(403);
      expect(none.json().error.code).toBe('signup_closed');
      const bogus = await register(sut, 'first@example.com', 'CVI-AAAAA-BBBBB-CCCCC-DDDDD');
      expect(bogus.statusCode).toBe(403);
      expect(bogus.json().error.code).toBe('signup_closed');

      // The command line, against the same database (stopped server: PGlite is one process).
      await sut.stop();
      const cli = await run(process.execPath, ['--import', 'tsx', 'server/cli/invite.ts', '--days', '3'], { env: { ...process.env, ...sut.env } });
      await sut.restart();
      const code = cli.stdout.trim();
      expect(code).toMatch(/^CVI-(?:[0-9A-Z]{5}-){3}[0-9A-Z]{5}$/);

      // Typed loosely: lower case, spaces instead of dashes.
      const first = await register(sut, 'first@example.com', code.toLowerCase().replace(/-/g, ' '));
      expect(first.statusCode).toBe(201);
      const admin = { cookie: cookieFrom(first.headers['set-cookie']) };
      const again = await register(sut, 'second@example.com', code);
      expect(again.statusCode).toBe(403);
      expect(again.json().error.code).toBe('signup_closed');
      // An existing email is not revealed to someone without a code.
      const probe = await register(sut, 'first@example.com');
      expect(probe.json()).toEqual(none.json());

      // The first account is the admin and creates the next invite.
      const made = await sut.app.inject({ method: 'POST', url: '/api/invites', headers: admin, payload: {} });
      expect(made.statusCode).toBe(201);
      const second = await register(sut, 'second@example.com', made.json().code);
      expect(second.statusCode).toBe(201);
      const member = { cookie: cookieFrom(second.headers['set-cookie']) };
      const notAdmin = await sut.app.inject({ method: 'POST', url: '/api/invites', headers: member, payload: {} });
      expect(notAdmin.statusCode).toBe(403);
      expect(notAdmin.json().error.code).toBe('not_admin');
      expect((await sut.app.inject({ method: 'GET', url: '/api/invites', headers: member })).statusCode).toBe(403);
      // The app asks whether to show invites at all, and a member's answer is no, not a 403.
      expect((await sut.app.inject({ method: 'GET', url: '/api/invites/access', headers: admin })).json()).toEqual({ admin: true });
      expect((await sut.app.inject({ method: 'GET', url: '/api/invites/access', headers: member })).json()).toEqual({ admin: false });

      const list = await sut.app.inject({ method: 'GET', url: '/api/invites', headers: admin });
      expect(list.json().invites).toHaveLength(2);
      expect(list.json().invites.every((i: { usedAt: string | null }) => i.usedAt !== null)).toBe(true);
      expect(list.body).not.toContain(made.json().code);

      // A failed sign-up (taken email) gives the code back; a revoked code is refused.
      const third = (await sut.app.inject({ method: 'POST', url: '/api/invites', headers: admin, payload: { days: 1 } })).json();
      expect((await register(sut, 'second@example.com', third.code)).statusCode).toBe(409);
      expect((await sut.app.inject({ method: 'DELETE', url: `/api/invites/${third.id}`, headers: admin })).statusCode).toBe(204);
      expect((await register(sut, 'third@example.com', third.code)).statusCode).toBe(403);

      // Expired codes are refused.
      const fourth = (await sut.app.inject({ method: 'POST', url: '/api/invites', headers: admin, payload: {} })).json();
      await sut.stop();
      const { db } = await openDatabase(target === 'postgres' ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
      await sql`update invites set expires_at = now() - interval '1 minute' where id = ${fourth.id}`.execute(db);
      const stored = await sql<{ h: string }>`select encode(code_hash, 'hex') as h from invites`.execute(db);
      await db.destroy();
      await sut.restart();
      expect((await register(sut, 'fourth@example.com', fourth.code)).statusCode).toBe(403);
      // Only hashes are stored.
      expect(stored.rows.map((r) => r.h).join()).not.toContain(Buffer.from(fourth.code).toString('hex'));
    });
  });

  describe('SIGNUP=closed', () => {
    let sut: TestServer;
    beforeAll(async () => {
      sut = await startTestServer(target, { SIGNUP: 'closed' });
    });
    afterAll(async () => {
      await sut?.dispose();
    });

    it('refuses every sign-up, with or without a code', async () => {
      expect((await sut.app.inject({ method: 'GET', url: '/api/auth/signup' })).json()).toEqual({ signup: 'closed' });
      for (const code of [undefined, 'CVI-AAAAA-BBBBB-CCCCC-DDDDD']) {
        const r = await register(sut, 'someone@example.com', code);
        expect(r.statusCode).toBe(403);
        expect(r.json().error.code).toBe('signup_closed');
        expect(r.headers['set-cookie']).toBeUndefined();
      }
    });

    it('refuses to make invites no one could use, even for an admin', async () => {
      const open = await startTestServer(target, { SIGNUP: 'open' });
      try {
        const first = await register(open, 'admin@example.com');
        expect(first.statusCode).toBe(201);
        const admin = { cookie: cookieFrom(first.headers['set-cookie']), origin: 'http://localhost:8080' };
        open.env.SIGNUP = 'closed';
        await open.restart();
        expect((await open.app.inject({ method: 'GET', url: '/api/invites/access', headers: admin })).json()).toEqual({ admin: true });
        const made = await open.app.inject({ method: 'POST', url: '/api/invites', headers: admin, payload: {} });
        expect(made.statusCode).toBe(409);
        expect(made.json().error).toMatchObject({ code: 'signup_closed', message: expect.stringMatching(/SIGNUP=invite/) });
      } finally {
        await open.dispose();
      }
    });
  });
});
