import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

/**
 * A stranger who knows only an account's email must not be able to lock its owner out: failed
 * sign-ins lock the address they came from, and a signed-in owner's own passphrase checks
 * (change, new recovery key, deletion) have their own counter.
 */
describe.each(dbTargets())('sign-in lock-out by strangers (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  const login = (email: string, passphrase: string, remoteAddress: string) =>
    inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: { email, passphrase } });
  /** Wrong sign-ins from `from` until one is refused with 429: the address is then locked. */
  const lockFrom = async (email: string, from: string) => {
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) codes.push((await login(email, `wrong guess number ${i}`, from)).statusCode);
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes).toContain(429);
  };

  it('locks only the address that guessed: the owner signs in from another address with the right passphrase', async () => {
    const victim = await signUp(sut.app);
    await lockFrom(victim.email, '127.0.0.2');

    const owner = await login(victim.email, victim.passphrase, '127.0.0.1');
    expect(owner.statusCode).toBe(200);
    // The guesser's own address stays locked, even for the right passphrase.
    const guesser = await login(victim.email, victim.passphrase, '127.0.0.2');
    expect(guesser.statusCode).toBe(429);
    expect(guesser.json().error.code).toBe('rate_limited');
    expect(Number(guesser.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it("leaves a signed-in owner's passphrase change, new recovery key and account deletion to the owner", async () => {
    const victim = await signUp(sut.app);
    await lockFrom(victim.email, '127.0.2.1');

    const rotate = await inject({ method: 'POST', url: '/api/auth/recovery-key', headers: victim.headers, payload: { passphrase: victim.passphrase } });
    expect(rotate.statusCode).toBe(200);
    const change = await inject({
      method: 'POST',
      url: '/api/auth/passphrase',
      headers: victim.headers,
      payload: { current: victim.passphrase, next: 'a brand new passphrase' },
    });
    expect(change.statusCode).toBe(204);
    const del = await inject({ method: 'DELETE', url: '/api/account', headers: victim.headers, payload: { passphrase: 'a brand new passphrase' } });
    expect(del.statusCode).toBe(204);
  });

  it("throttles a session's wrong passphrases on that session, not on sign-in", async () => {
    const user = await signUp(sut.app);
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await inject({ method: 'POST', url: '/api/auth/recovery-key', headers: user.headers, payload: { passphrase: `not it ${i}` } });
      codes.push(r.statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes).toContain(429);
    // Sign-in from anywhere is untouched by the session's guesses.
    expect((await login(user.email, user.passphrase, '127.0.0.1')).statusCode).toBe(200);
  });

  it('locks recovery per address too: the owner recovers from another address', async () => {
    const victim = await signUp(sut.app);
    const codes: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await inject({
        method: 'POST',
        url: '/api/auth/recover',
        remoteAddress: '127.0.3.1',
        payload: { email: victim.email, recoveryKey: 'CV1-AAAA-AAAA-AAAA-AAAA', next: 'recovered passphrase 1' },
      });
      codes.push(r.statusCode);
    }
    expect(codes).toContain(429);
    const owner = await inject({
      method: 'POST',
      url: '/api/auth/recover',
      remoteAddress: '127.0.3.2',
      payload: { email: victim.email, recoveryKey: victim.recoveryKey, next: 'recovered passphrase 1' },
    });
    expect(owner.statusCode).toBe(200);
  });
});

describe.each(dbTargets())('sign-in lock-out behind a proxy (%s)', (target) => {
  it('TRUST_PROXY=1: the lock follows the client address the proxy reports', async () => {
    const sut = await startTestServer(target, { TRUST_PROXY: '1' });
    try {
      const victim = await signUp(sut.app);
      const from = (client: string, passphrase: string) =>
        sut.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-forwarded-for': client }, payload: { email: victim.email, passphrase } });
      const codes: number[] = [];
      for (let i = 0; i < 9; i++) codes.push((await from('203.0.113.7', `wrong guess ${i}`)).statusCode);
      expect(codes).toContain(429);
      expect((await from('203.0.113.8', victim.passphrase)).statusCode).toBe(200);
    } finally {
      await sut.dispose();
    }
  });
});
