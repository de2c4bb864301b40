import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { derivePassphraseKey, unwrapVaultKey, type KdfParams } from '../../crypto/index.js';
import { chat as chatCodec } from '../codec/index.js';
import { asBuffer, openDatabase } from '../db/index.js';
import { KeyRing } from '../services/keyring.js';

type User = Awaited<ReturnType<typeof signUp>>;
type Page = { chats: Array<{ id: string; title: string; updatedAt: string }>; nextCursor: string | null };

/**
 * Paging of `GET /api/chats`. Chats are written straight into the stopped server's database
 * (sealed under the user's own keys, as the chat service would), since creating 130 of them
 * through the streaming endpoint would be slow, and it could not give them identical update times.
 */
describe.each(dbTargets())('chat list paging (%s)', (target) => {
  let sut: TestServer;
  let alice: User;
  let bob: User;
  const aliceIds: string[] = [];
  const bobIds: string[] = [];

  const seed = async (user: User, count: number, stamp: (i: number) => string | null): Promise<string[]> => {
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      // The user's keys, unlocked as a login does (routes reach no repository, so neither does this).
      const row = await db.selectFrom('users').selectAll().where('id', '=', user.user.id).executeTakeFirstOrThrow();
      const wrappingKey = await derivePassphraseKey(user.passphrase, row.kdf_params as KdfParams);
      const keys = new KeyRing(
        unwrapVaultKey(wrappingKey, asBuffer(row.wrapped_vk_passphrase), { purpose: 'passphrase', userId: row.id, keyVersion: row.key_version }),
      );
      const ids: string[] = [];
      // One transaction: the chats left at the column's default share one `now()`, to the microsecond.
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < count; i++) {
          const id = randomUUID();
          const ciphertext = chatCodec.seal(keys, { userId: row.id, id, version: 1 }, { title: `Chat ${i}` });
          await trx.insertInto('chats').values({ id, user_id: row.id, version: 1, ciphertext }).execute();
          const at = stamp(i);
          if (at !== null) await sql`update chats set updated_at = cast(${at} as timestamptz) where id = ${id}`.execute(trx);
          ids.push(id);
        }
      });
      return ids;
    } finally {
      await db.destroy();
    }
  };

  const get = (user: User, query = '') => sut.app.inject({ method: 'GET', url: `/api/chats${query}`, headers: user.headers });

  const pageAll = async (user: User, limit: number): Promise<Page['chats']> => {
    const all: Page['chats'] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 1000; n++) {
      const r = await get(user, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.statusCode).toBe(200);
      const page = r.json() as Page;
      expect(page.chats.length).toBeLessThanOrEqual(limit);
      all.push(...page.chats);
      cursor = page.nextCursor;
      if (!cursor) return all;
    }
    throw new Error('paging did not end');
  };

  beforeAll(async () => {
    sut = await startTestServer(target);
    alice = await signUp(sut.app);
    bob = await signUp(sut.app);
    await sut.stop();
    // 130 chats: 20 at the default `now()` (one instant, with microseconds), 40 in groups of
    // five sharing a millisecond, 40 sharing one microsecond instant an hour ago, and 30
    // a microsecond apart within one millisecond (which a millisecond cursor would skip).
    aliceIds.push(
      ...(await seed(alice, 130, (i) => {
        if (i < 20) return null;
        if (i < 60) return `2026-11-01T10:00:${String(Math.floor(i / 5)).padStart(2, '0')}.123Z`;
        if (i < 100) return '2026-11-01T09:00:00.000001Z';
        return `2026-10-01T08:00:00.123${String(i - 100).padStart(3, '0')}Z`;
      })),
    );
    bobIds.push(...(await seed(bob, 5, () => '2026-11-01T10:00:05.123Z')));
    await sut.restart();
  });
  afterAll(async () => sut?.dispose());

  it.each([1, 7, 50, 100, 200])('pages of %i list every chat exactly once, most recently updated first', async (limit) => {
    const all = await pageAll(alice, limit);
    expect(all).toHaveLength(aliceIds.length);
    expect(new Set(all.map((c) => c.id)).size).toBe(aliceIds.length);
    expect(new Set(all.map((c) => c.id))).toEqual(new Set(aliceIds));
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.updatedAt >= all[i]!.updatedAt).toBe(true);
    // Titles are opened in the service.
    expect(all.map((c) => c.title)).toContain('Chat 129');
    // Another user's chats never appear, even those updated in the same instant.
    expect(all.some((c) => bobIds.includes(c.id))).toBe(false);
  });

  it('defaults to 100 a page, and the last page has no next cursor', async () => {
    const first = (await get(alice)).json() as Page;
    expect(first.chats).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await get(alice, `?cursor=${first.nextCursor}`)).json() as Page;
    expect(second.chats).toHaveLength(30);
    expect(second.nextCursor).toBeNull();
    expect((await get(bob)).json()).toEqual({ chats: expect.any(Array), nextCursor: null });
  });

  it("another user's cursor pages only their own chats", async () => {
    const first = (await get(alice, '?limit=3')).json() as Page;
    const r = await get(bob, `?cursor=${first.nextCursor}`);
    expect(r.statusCode).toBe(200);
    const ids = (r.json() as Page).chats.map((c) => c.id);
    expect(ids.every((id) => bobIds.includes(id))).toBe(true);
  });

  it.each(['0', '201', '-1', '1.5', 'ten'])('refuses limit=%s', async (limit) => {
    const r = await get(alice, `?limit=${limit}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('invalid_request');
  });

  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  it.each([
    ['not base64', 'zzz'],
    ['no id', b64('2026-11-01T10:00:00.123456Z')],
    ['not a uuid', b64('2026-11-01T10:00:00.123456Z|------------------------------------')],
    ['not a time', b64(`yesterday|${randomUUID()}`)],
    ['milliseconds only', b64(`2026-11-01T10:00:00.123Z|${randomUUID()}`)],
    ['no such month', b64(`2026-13-01T10:00:00.123456Z|${randomUUID()}`)],
    ['trailing part', b64(`2026-11-01T10:00:00.123456Z|${randomUUID()}|x`)],
    ['too long', 'a'.repeat(201)],
  ])('refuses a malformed cursor (%s) with 400 invalid_cursor', async (_name, cursor) => {
    const r = await get(alice, `?cursor=${cursor}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe(cursor.length > 200 ? 'invalid_request' : 'invalid_cursor');
  });

  it('needs a session', async () => {
    expect((await sut.app.inject({ method: 'GET', url: '/api/chats' })).statusCode).toBe(401);
  });
});
