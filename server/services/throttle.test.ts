import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { CEILING_POLICY, MemoryFailureThrottle, clientBucket } from './throttle.js';

const refused = async (p: Promise<void>) =>
  p.then(
    () => false,
    (e: unknown) => {
      if (e instanceof AppError && e.statusCode === 429) return true;
      throw e;
    },
  );

describe('MemoryFailureThrottle with an account-wide ceiling', () => {
  const ceiling = { key: 'login-any:victim@example.com', policy: CEILING_POLICY };

  it("locks one client's key without touching another client's key for the same account", async () => {
    const sut = new MemoryFailureThrottle();
    const now = 1_000_000;
    for (let i = 0; i < 6; i++) await sut.reserve('login:victim@example.com|10.0.0.1', ceiling, now);
    expect(await refused(sut.reserve('login:victim@example.com|10.0.0.1', ceiling, now))).toBe(true);
    expect(await refused(sut.reserve('login:victim@example.com|10.0.0.2', ceiling, now))).toBe(false);
  });

  it('refuses every client once the account has failed 100 times, for a minute at most, and counts nothing against the client meanwhile', async () => {
    const sut = new MemoryFailureThrottle();
    const now = 1_000_000;
    // 100 failures spread over 25 addresses: none of them locked, the ceiling reached.
    for (let i = 0; i < CEILING_POLICY.free; i++) await sut.reserve(`login:v|10.0.${i % 25}.1`, ceiling, now);
    await sut.reserve('login:v|10.0.99.1', ceiling, now); // the 101st sets a short lock
    const owner = 'login:v|192.0.2.1';
    // Refused many times over, yet the owner's own key was never counted: no lock of its own later.
    for (let i = 0; i < 10; i++) expect(await refused(sut.reserve(owner, ceiling, now))).toBe(true);
    expect(await refused(sut.reserve(owner, ceiling, now + CEILING_POLICY.maxMs))).toBe(false);
    expect(() => sut.check(owner, now + CEILING_POLICY.maxMs)).not.toThrow();
  });

  it('keeps the ceiling lock short however long the guessing goes on', async () => {
    const sut = new MemoryFailureThrottle();
    let now = 1_000_000;
    const waits: number[] = [];
    for (let i = 0; i < 300; i++, now += 1_000) {
      await sut.reserve(`login:v|10.${i}.0.1`, ceiling, now).catch((e: AppError) => waits.push(Number(e.headers['retry-after'])));
    }
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(CEILING_POLICY.maxMs / 1000);
  });
});

describe('clientBucket', () => {
  it('counts an IPv4 address, mapped or not, as itself', () => {
    expect(clientBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });
  it('counts an IPv6 address by its /64, however it is written', () => {
    expect(clientBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientBucket('2001:0DB8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(clientBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientBucket('::1')).toBe('0:0:0:0::/64');
  });
  it('gives a missing address one shared bucket', () => {
    expect(clientBucket(undefined)).toBe('unknown');
  });
});
