import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as crypto from '../../crypto/index.js';
import type { Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import type { AuditRecorder } from './activity.service.js';
import { AuthService } from './auth.service.js';

vi.mock('../../crypto/index.js', async (original) => {
  const m = await original<typeof import('../../crypto/index.js')>();
  return { ...m, unwrapVaultKey: vi.fn(m.unwrapVaultKey), parseRecoveryKey: vi.fn(m.parseRecoveryKey) };
});

/**
 * Recovery must not say by its timing which emails have an account: an unknown email does the
 * work a wrong key for a real account does (parse the key, unwrap with it, write the failure).
 */
describe.each(dbTargets())('recovery for an unknown email (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let auth: AuthService;
  const recorded: { action: string; userId: string | null }[] = [];
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    const audit = new AuditRepository(db);
    const recorder: AuditRecorder = {
      record: async (action, userId, requestId) => {
        recorded.push({ action, userId });
        await audit.record(action, userId, requestId);
      },
    };
    auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), recorder, { sessionTtlMs: 3_600_000 });
  });
  afterAll(async () => {
    await dispose?.();
  });

  const wrongKey = crypto.generateRecoveryKey().text;
  /** The crypto calls and audit records one failed recovery made. */
  const work = async (email: string) => {
    vi.mocked(crypto.unwrapVaultKey).mockClear();
    vi.mocked(crypto.parseRecoveryKey).mockClear();
    recorded.length = 0;
    await expect(auth.recover(email, wrongKey, 'a new passphrase here')).rejects.toMatchObject({ statusCode: 401, code: 'invalid_credentials' });
    return {
      parsed: vi.mocked(crypto.parseRecoveryKey).mock.calls.length,
      unwrapped: vi.mocked(crypto.unwrapVaultKey).mock.calls.length,
      recorded: recorded.map((r) => r.action),
    };
  };

  it('parses and unwraps with the key and records the failure, as for a real account', async () => {
    await auth.register('real@example.com', 'correct horse battery staple');
    const real = await work('real@example.com');
    const unknown = await work('nobody@example.com');
    expect(real).toEqual({ parsed: 1, unwrapped: 1, recorded: ['recover_failed'] });
    expect(unknown).toEqual(real);
    // The unknown email's failure is kept without a user: nobody's activity shows it.
    expect(recorded).toEqual([{ action: 'recover_failed', userId: null }]);
  });
});
