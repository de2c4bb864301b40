import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInboxKeyPair, inboxPublicKeyOf } from '../../crypto/index.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/index.js';
import { IntegrationsRepository } from '../repositories/integrations.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { InboxKeyUnverifiedError, InboxService } from './inbox.service.js';
import { ItemsService } from './items.service.js';

/** The sync worker's view: the database and SERVER_KEY, never a vault key. */
describe.each(dbTargets())('inbox public key is authenticated (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  async function withWorker<T>(fn: (worker: InboxService, db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
    await sut.stop();
    const { db } = await openDatabase(target === 'postgres' ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      const worker = new InboxService(new IntegrationsRepository(db), new ItemsService(new ItemsRepository(db)), {
        checkEveryMs: 10_000,
        serverKey: loadConfig(sut.env).serverKey,
      });
      return await fn(worker, db);
    } finally {
      await db.destroy();
      await sut.restart();
    }
  }
  const record = { resourceType: 'Observation', id: 'o1' } as never;
  const inboxRows = async (db: Awaited<ReturnType<typeof openDatabase>>['db'], userId: string) =>
    Number((await sql<{ n: string }>`select count(*) as n from inbox where user_id = ${userId}`.execute(db)).rows[0]!.n);

  it('seals only to a key a signed-in session checked; a swapped key is refused, then restored at the next sign-in', async () => {
    const user = await signUp(sut.app);
    // Sign-up certifies the key it made; a key with no MAC (as in a vault from before 0012) is not
    // yet checked by a session, and the worker refuses to seal to it.
    await withWorker(async (worker, db) => {
      expect(
        (await sql<{ m: Uint8Array | null }>`select inbox_public_key_mac as m from users where id = ${user.user.id}`.execute(db)).rows[0]!.m,
      ).not.toBeNull();
      await sql`update users set inbox_public_key_mac = null where id = ${user.user.id}`.execute(db);
      await expect(worker.deposit(user.user.id, 'epic', { records: [record] })).rejects.toBeInstanceOf(InboxKeyUnverifiedError);
      expect(await inboxRows(db, user.user.id)).toBe(0);
    });
    // Any signed-in request checks it against the vault-sealed private key.
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.headers })).statusCode).toBe(200);
    const attacker = await generateInboxKeyPair();
    let original!: Buffer;
    await withWorker(async (worker, db) => {
      await worker.deposit(user.user.id, 'epic', { records: [record] });
      expect(await inboxRows(db, user.user.id)).toBe(1);
      // A database writer swaps in their own key (keeping the old MAC, or dropping it).
      original = Buffer.from((await sql<{ k: Uint8Array }>`select inbox_public_key as k from users where id = ${user.user.id}`.execute(db)).rows[0]!.k);
      await sql`update users set inbox_public_key = ${attacker.publicKey} where id = ${user.user.id}`.execute(db);
      await expect(worker.deposit(user.user.id, 'epic', { records: [record] })).rejects.toBeInstanceOf(InboxKeyUnverifiedError);
      await sql`update users set inbox_public_key_mac = null where id = ${user.user.id}`.execute(db);
      await expect(worker.deposit(user.user.id, 'epic', { records: [record] })).rejects.toBeInstanceOf(InboxKeyUnverifiedError);
      expect(await inboxRows(db, user.user.id)).toBe(1);
    });
    expect(inboxPublicKeyOf(attacker.privateKey)).toEqual(attacker.publicKey);

    // The owner's next session puts the real key back (and empties the inbox it can open).
    const login = await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await sut.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(200);
    await withWorker(async (worker, db) => {
      const now = Buffer.from((await sql<{ k: Uint8Array }>`select inbox_public_key as k from users where id = ${user.user.id}`.execute(db)).rows[0]!.k);
      expect(now).toEqual(original);
      await worker.deposit(user.user.id, 'epic', { records: [record] });
    });
    expect(sut.logs()).toContain('inbox public key did not match');

    // The placeholder record is not a whole record: the next drain drops it (counted, never
    // shown) instead of failing and retrying the same row on every request.
    const cookie2 = String(
      (await sut.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } })).headers['set-cookie'],
    ).split(';')[0]!;
    const dropped = () => sut.logs().split('"malformedInboxEntries":1').length - 1;
    expect(dropped()).toBe(1); // the row deposited before the swap, drained at the sign-in above
    for (let i = 0; i < 100 && dropped() < 2; i++) {
      expect((await sut.app.inject({ method: 'GET', url: '/api/items', headers: { cookie: cookie2 } })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dropped()).toBe(2);
    expect(sut.logs()).not.toContain('inbox drain failed');
    await withWorker(async (_worker, db) => expect(await inboxRows(db, user.user.id)).toBe(0));
  });
});
