import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { AppError } from '../errors.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { AuthService } from './auth.service.js';

/**
 * Users whose reads can be held until `n` callers have read: every racing request then acts on
 * the same row, the interleaving that lost all but the last write (the window is a key
 * derivation wide in real use; here it is made certain rather than likely).
 */
class HeldUsers extends UsersRepository {
  #hold: { n: number; arrived: number; release: () => void; all: Promise<void> } | undefined;

  holdReads(n: number): void {
    let release!: () => void;
    const all = new Promise<void>((r) => (release = r));
    this.#hold = { n, arrived: 0, release, all };
  }

  async #arrive(): Promise<void> {
    const h = this.#hold;
    if (!h) return;
    if (++h.arrived === h.n) {
      this.#hold = undefined;
      h.release();
    }
    await h.all;
  }

  override async findById(id: string) {
    const row = await super.findById(id);
    await this.#arrive();
    return row;
  }

  override async findByEmail(email: string) {
    const row = await super.findByEmail(email);
    await this.#arrive();
    return row;
  }
}

const noThrottle = { reserve: async () => {}, succeed: async () => {} };
const P = 'correct horse battery staple';

/** The settled results split into successes and the codes of the failures. */
function outcome<T>(settled: PromiseSettledResult<T>[]) {
  const won = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ i, value: s.value }] : []));
  const lost = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as AppError] : []));
  return { won, lost: lost.map((e) => (e instanceof AppError ? `${e.statusCode} ${e.code}` : String(e))) };
}

describe.each(dbTargets())('changing the ways in while another change races it (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let users: HeldUsers;
  let auth: AuthService;
  let n = 0;
  const register = async () => {
    const email = `race-${++n}@example.com`;
    const r = await auth.register(email, P);
    return { email, ...r };
  };
  const works = (p: Promise<unknown>) =>
    p.then(
      () => true,
      (e: unknown) => {
        if (e instanceof AppError && e.code === 'invalid_credentials') return false;
        throw e;
      },
    );

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    users = new HeldUsers(db);
    auth = new AuthService(users, new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000, throttle: noThrottle });
  });
  afterAll(async () => {
    await dispose?.();
  });

  it('rotating the recovery key: one rotation answers with its key, which works; the others are 409 and nothing of theirs is saved', async () => {
    const u = await register();
    users.holdReads(4);
    const settled = await Promise.allSettled([0, 1, 2, 3].map(() => auth.rotateRecoveryKey(u.session.context, P)));
    const { won, lost } = outcome(settled);
    expect(won).toHaveLength(1);
    expect(lost).toEqual(['409 concurrent_change', '409 concurrent_change', '409 concurrent_change']);
    // The replaced key is dead, and the key that was answered opens the vault.
    expect(await works(auth.recover(u.email, u.recoveryKey, 'after recovery one'))).toBe(false);
    expect(await works(auth.recover(u.email, won[0]!.value, 'after recovery one'))).toBe(true);
  });

  it('changing the passphrase: one change answers success and its passphrase is the one that works; the others are 409', async () => {
    const u = await register();
    users.holdReads(3);
    const next = ['new passphrase zero', 'new passphrase one', 'new passphrase two'];
    const settled = await Promise.allSettled(next.map((p) => auth.changePassphrase(u.session.context, P, p)));
    const { won, lost } = outcome(settled);
    expect(won).toHaveLength(1);
    expect(lost).toEqual(['409 concurrent_change', '409 concurrent_change']);
    const winner = next[won[0]!.i]!;
    expect(await works(auth.login(u.email, winner))).toBe(true);
    expect(
      await works(
        auth.login(
          u.email,
          next.find((p) => p !== winner)!,
        ),
      ),
    ).toBe(false);
  });

  it('recovering twice at once: one recovery signs in and sets its passphrase; the other is 409', async () => {
    const u = await register();
    users.holdReads(2);
    const next = ['recovered passphrase a', 'recovered passphrase b'];
    const settled = await Promise.allSettled(next.map((p) => auth.recover(u.email, u.recoveryKey, p)));
    const { won, lost } = outcome(settled);
    expect(won).toHaveLength(1);
    expect(lost).toEqual(['409 concurrent_change']);
    expect(await works(auth.login(u.email, next[won[0]!.i]!))).toBe(true);
    expect(await works(auth.login(u.email, next[1 - won[0]!.i]!))).toBe(false);
  });
});
