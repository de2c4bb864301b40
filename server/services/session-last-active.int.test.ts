import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { AuthService } from './auth.service.js';

const noThrottle = { reserve: async () => {}, succeed: async () => {} };

describe.each(dbTargets())('a session\'s "Last active" (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let auth: AuthService;
  let n = 0;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000, throttle: noThrottle });
  });
  afterAll(async () => {
    await dispose?.();
  });

  const lastSeen = async (id: string) => (await db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow()).last_seen_at;
  const setLastSeen = (id: string, msAgo: number) =>
    db
      .updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - msAgo) })
      .where('id', '=', id)
      .execute();

  it('moves forward when the session is used more than a minute after it was last', async () => {
    const { session } = await auth.register(`active-${++n}@example.com`, 'correct horse battery staple');
    await setLastSeen(session.context.sessionId, 5 * 60_000);
    auth.clearCache();
    const before = Date.now();
    expect(await auth.authenticate(session.cookie)).not.toBeNull();
    expect(new Date(await lastSeen(session.context.sessionId)).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('is not written again within the minute', async () => {
    const { session } = await auth.register(`active-${++n}@example.com`, 'correct horse battery staple');
    await setLastSeen(session.context.sessionId, 20_000);
    const set = new Date(await lastSeen(session.context.sessionId)).getTime();
    auth.clearCache();
    expect(await auth.authenticate(session.cookie)).not.toBeNull();
    expect(new Date(await lastSeen(session.context.sessionId)).getTime()).toBe(set);
  });
});
