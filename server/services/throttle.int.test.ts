import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgFailureThrottle, keyMac } from '../cluster/shared-limits.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors.js';
import { RateLimitsRepository } from '../repositories/rate-limits.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { CEILING_POLICY } from './throttle.js';

/** The shared (PostgreSQL) throttle keeps the same two-level rule as the in-memory one. */
describe.each(dbTargets())('PgFailureThrottle with an account-wide ceiling (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sut: PgFailureThrottle;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    sut = new PgFailureThrottle(new RateLimitsRepository(db), Buffer.alloc(32, 7));
  });
  afterAll(async () => {
    await dispose?.();
  });
  const refused = (p: Promise<void>) =>
    p.then(
      () => false,
      (e: unknown) => {
        if (e instanceof AppError && e.statusCode === 429) return Number(e.headers['retry-after']);
        throw e;
      },
    );
  const ceiling = { key: 'login-account:v@example.com', policy: CEILING_POLICY };

  it("locks one client without another, then every client at the ceiling, briefly, without counting the refused client's attempts", async () => {
    for (let i = 0; i < 6; i++) await sut.reserve('login-client:10.0.0.1|v@example.com', ceiling);
    expect(await refused(sut.reserve('login-client:10.0.0.1|v@example.com', ceiling))).toBeGreaterThanOrEqual(1);
    expect(await refused(sut.reserve('login-client:10.0.0.2|v@example.com', ceiling))).toBe(false);
    // 7 failures so far; 94 more from other addresses reach 101, which sets the ceiling's lock.
    for (let i = 0; i < 94; i++) await sut.reserve(`login-client:10.1.${i}.1|v@example.com`, ceiling);
    const owner = 'login-client:192.0.2.1|v@example.com';
    for (let i = 0; i < 6; i++) {
      const wait = await refused(sut.reserve(owner, ceiling));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(CEILING_POLICY.maxMs / 1000);
    }
    // Refused six times, yet nothing was counted against the owner's own key.
    const rows = await db
      .selectFrom('failure_throttle')
      .select('failures')
      .where('key', '=', keyMac(Buffer.alloc(32, 7), 'failure-throttle')(owner))
      .execute();
    expect(rows).toEqual([]);
  });
});
