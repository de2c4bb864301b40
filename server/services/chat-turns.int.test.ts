import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { dbTargets, insertBareUser, openTestDatabase } from '../../test-support/server/harness.js';
import { AppError } from '../errors.js';
import { ChatsRepository } from '../repositories/chats.repository.js';
import { ChatService } from './chat.service.js';
import type { SessionContext } from './keyring.js';
import type { RetrievalService } from './retrieval.service.js';

/**
 * Two app instances on one database, as ChatService sees them: each its own service and
 * repository (claiming a turn needs neither retrieval nor a sandbox).
 */
describe.each(dbTargets())('one turn at a time per chat, across instances (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const instance = () => new ChatService(new ChatsRepository(db), {} as RetrievalService, null, { model: 'test-model', numCtx: 4096, runtime: 'url' });
  const session = (userId: string) => ({ userId }) as SessionContext;
  /** The error code `p` rejects with, or `ok`. */
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof AppError ? err.code : String(err)),
    );

  async function newChat(): Promise<{ userId: string; chatId: string }> {
    const userId = randomUUID();
    const chatId = randomUUID();
    await insertBareUser(db, userId);
    await new ChatsRepository(db).create({ id: chatId, user_id: userId, ciphertext: Buffer.alloc(64) });
    return { userId, chatId };
  }

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
  });
  afterAll(async () => {
    await dispose?.();
  });

  it('refuses a second turn on another instance with 409 chat_busy until the first ends', async () => {
    const [a, b] = [instance(), instance()];
    const { userId, chatId } = await newChat();
    const end = await a.beginTurn(session(userId), chatId);
    expect(await outcome(b.beginTurn(session(userId), chatId))).toBe('chat_busy');
    expect(await outcome(a.beginTurn(session(userId), chatId))).toBe('chat_busy');
    await end();
    const endB = await b.beginTurn(session(userId), chatId);
    expect(await outcome(a.beginTurn(session(userId), chatId))).toBe('chat_busy');
    await endB();
    // Ending twice frees nothing another turn holds.
    const endA = await a.beginTurn(session(userId), chatId);
    await endB();
    expect(await outcome(b.beginTurn(session(userId), chatId))).toBe('chat_busy');
    await endA();
  });

  it('lets only one of many turns asked at once through', async () => {
    const instances = [instance(), instance(), instance()];
    const { userId, chatId } = await newChat();
    const tries = await Promise.all(
      instances.flatMap((s) =>
        [s, s].map((x) =>
          x.beginTurn(session(userId), chatId).then(
            (end) => end,
            (err: AppError) => err.code,
          ),
        ),
      ),
    );
    expect(tries.filter((t) => typeof t === 'function')).toHaveLength(1);
    expect(tries.filter((t) => t === 'chat_busy')).toHaveLength(5);
    await (tries.find((t) => typeof t === 'function') as () => Promise<void>)();
  });

  it('frees a chat whose turn’s claim ran out (its instance died), and keeps other users’ chats apart', async () => {
    const { userId, chatId } = await newChat();
    // What an instance killed mid-turn leaves: a claim nobody renews, past its time.
    await sql`update chats set turn_id = ${randomUUID()}, turn_until = now() - interval '1 second' where id = ${chatId}`.execute(db);
    const end = await instance().beginTurn(session(userId), chatId);
    expect(await outcome(instance().beginTurn(session(randomUUID()), chatId))).toBe('not_found');
    await end();
  });

  it('keeps a long turn’s claim by renewing it', async () => {
    const { userId, chatId } = await newChat();
    const sut = new ChatService(new ChatsRepository(db), {} as RetrievalService, null, { model: 'm', numCtx: 4096, runtime: 'url', turnClaimMs: 300 });
    const end = await sut.beginTurn(session(userId), chatId);
    const until = async () => (await db.selectFrom('chats').select('turn_until').where('id', '=', chatId).executeTakeFirstOrThrow()).turn_until!.getTime();
    const first = await until();
    // Renewed every third of the claim: wait for the database to show a later expiry.
    while ((await until()) <= first) await new Promise((r) => setTimeout(r, 20));
    await end();
    expect(await db.selectFrom('chats').select(['turn_id', 'turn_until']).where('id', '=', chatId).executeTakeFirstOrThrow()).toEqual({
      turn_id: null,
      turn_until: null,
    });
  });
});
