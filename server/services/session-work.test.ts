import { describe, expect, it } from 'vitest';
import { AuthService } from './auth.service.js';
import { KeyRing, type SessionContext } from './keyring.js';
import type { SessionsRepository } from '../repositories/sessions.repository.js';
import type { UsersRepository } from '../repositories/users.repository.js';
import { SessionWork, isSessionEnded } from './session-work.js';

const ctx = (userId: string, sessionId: string, token = false): SessionContext => ({
  userId,
  sessionId,
  email: 'a@example.org',
  keys: new KeyRing(Buffer.alloc(32)),
  ...(token ? { apiToken: { id: sessionId.slice(6), scopes: ['chat' as const] } } : {}),
});

function service(publish: () => Promise<void>, work: SessionWork) {
  const sessions = { deleteOthers: async () => 1 } as unknown as SessionsRepository;
  return new AuthService({} as UsersRepository, sessions, { record: async () => {} }, { sessionTtlMs: 60_000, revocations: { publish, reliable: true }, work });
}

describe('SessionWork', () => {
  it('aborts what a revocation from another instance names (forgetLocal), and nothing else', () => {
    const work = new SessionWork();
    const auth = service(async () => {}, work);
    const track = (c: SessionContext) => {
      const ac = new AbortController();
      work.track(c, ac);
      return ac.signal;
    };
    const kept = track(ctx('u1', 's-keep'));
    const other = track(ctx('u1', 's-other'));
    const token = track(ctx('u1', 'token:t1', true));
    const stranger = track(ctx('u2', 's-2'));
    // What the NOTIFY handler calls on the receiving instance.
    auth.forgetLocal({ userId: 'u1', keep: 's-keep' });
    expect([kept.aborted, other.aborted, token.aborted, stranger.aborted]).toEqual([false, true, false, false]);
    expect(isSessionEnded(other.reason)).toBe(true);
    expect((other.reason as { code: string }).code).toBe('session_ended');
    auth.forgetLocal({ sessionId: 'token:t1' });
    expect(token.aborted).toBe(true);
    expect((token.reason as { code: string }).code).toBe('invalid_token');
    auth.forgetLocal({ userId: 'u2', tokens: true });
    expect(stranger.aborted).toBe(true);
    expect(work.size).toBe(1);
  });

  it('"end all other sessions" waits for the announcement to the other instances, so its failure is the request’s', async () => {
    const auth = service(() => Promise.reject(new Error('notify failed')), new SessionWork());
    await expect(auth.revokeOtherSessions(ctx('u1', 's1'))).rejects.toThrow('notify failed');
  });
});
