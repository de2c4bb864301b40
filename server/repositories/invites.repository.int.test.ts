import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { dbTargets, insertBareUser, openTestDatabase, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { InvitesRepository } from './invites.repository.js';

const admins = async (db: Database) => (await sql<{ id: string }>`select id from users where is_admin order by id`.execute(db)).rows.map((r) => r.id);
const uid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
const bareUser = async (db: Database, n: number, at: string) => {
  await insertBareUser(db, uid(n));
  await sql`update users set created_at = ${at} where id = ${uid(n)}`.execute(db);
};

describe.each(dbTargets())('the admin of an instance (%s)', (target) => {
  describe('through the API', () => {
    let sut: TestServer;
    beforeAll(async () => {
      sut = await startTestServer(target);
    });
    afterAll(async () => {
      await sut?.dispose();
    });

    it('passes to the oldest remaining account when the admin deletes theirs, not to the next stranger', async () => {
      const access = async (headers: Record<string, string>) =>
        (await sut.app.inject({ method: 'GET', url: '/api/invites/access', headers })).json().admin as boolean;
      const first = await signUp(sut.app);
      const second = await signUp(sut.app);
      expect(await access(first.headers)).toBe(true);
      expect(await access(second.headers)).toBe(false);

      const del = await sut.app.inject({ method: 'DELETE', url: '/api/account', headers: first.headers, payload: { passphrase: first.passphrase } });
      expect(del.statusCode, del.body).toBe(204);
      expect(await access(second.headers)).toBe(true);

      const stranger = await signUp(sut.app);
      expect(await access(stranger.headers)).toBe(false);
      expect((await sut.app.inject({ method: 'POST', url: '/api/invites', headers: stranger.headers, payload: {} })).statusCode).toBe(403);
    });
  });

  describe('in the database', () => {
    let db: Database;
    let dispose: () => Promise<void>;
    let repo: InvitesRepository;
    beforeAll(async () => {
      ({ db, dispose } = await openTestDatabase(target));
      repo = new InvitesRepository(db);
    });
    afterAll(async () => {
      await dispose?.();
    });

    it('is the oldest account, is handed on by every deletion of the last admin, and goes to a newcomer only on an empty instance', async () => {
      await bareUser(db, 3, '2026-03-01T00:00:00Z');
      await bareUser(db, 1, '2026-01-01T00:00:00Z');
      await bareUser(db, 2, '2026-02-01T00:00:00Z');
      await repo.ensureAdmin();
      expect(await admins(db)).toEqual([uid(1)]);

      // Another admin remains: nobody else is promoted.
      await sql`update users set is_admin = true where id = ${uid(3)}`.execute(db);
      await sql`delete from users where id = ${uid(1)}`.execute(db);
      expect(await admins(db)).toEqual([uid(3)]);
      // The last admin goes (a plain delete, as any path would do it): the oldest left takes over.
      await sql`delete from users where id = ${uid(3)}`.execute(db);
      expect(await admins(db)).toEqual([uid(2)]);

      await sql`delete from users`.execute(db);
      await bareUser(db, 4, '2026-04-01T00:00:00Z');
      await repo.ensureAdmin();
      expect(await admins(db)).toEqual([uid(4)]);
      await bareUser(db, 5, '2026-05-01T00:00:00Z');
      await repo.ensureAdmin();
      expect(await admins(db)).toEqual([uid(4)]);
      await sql`delete from users`.execute(db);
    });

    // Two connections racing: PostgreSQL only (embedded PGlite has one connection, so nothing races there).
    const onPostgres = target === 'postgres' ? it : () => {};
    onPostgres('is decided after a deletion that races a sign-up commits: the newcomer left alone becomes admin', async () => {
      await bareUser(db, 6, '2026-06-01T00:00:00Z');
      await repo.ensureAdmin();
      expect(await admins(db)).toEqual([uid(6)]);
      let signUpDone: Promise<void> | undefined;
      await db.transaction().execute(async (trx) => {
        // The only account, the admin, is being deleted; nobody is left to hand admin to yet.
        await sql`delete from users where id = ${uid(6)}`.execute(trx);
        // Meanwhile a stranger signs up (own connection, committed) and asks for the admin check.
        await bareUser(db, 7, '2026-07-01T00:00:00Z');
        let settled = false;
        signUpDone = repo.ensureAdmin().finally(() => {
          settled = true;
        });
        // Let the check reach the database: it must wait on the deletion's lock, not decide
        // from the deleted admin it can still see.
        while (!settled) {
          const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`.execute(db);
          if (waiting.rows[0]!.n > 0) break;
        }
      });
      await signUpDone;
      expect(await admins(db)).toEqual([uid(7)]);
    });
  });
});
