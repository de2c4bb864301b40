import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, startTestServer, type TestServer } from '../../test-support/server/harness.js';

/** Internationalised addresses (RFC 6531): one account whichever way the same address is typed. */
describe.each(dbTargets())('internationalised email addresses (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });
  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  const P = 'correct horse battery staple';
  const register = (email: string) => inject({ method: 'POST', url: '/api/auth/register', payload: { email, passphrase: P } });
  const login = (email: string) => inject({ method: 'POST', url: '/api/auth/login', payload: { email, passphrase: P } });

  it('registers a Unicode local part, and signs in with its NFC, NFD and upper-case spellings', async () => {
    const nfd = 'jose\u0301@example.com';
    const reg = await register(nfd);
    expect(reg.statusCode).toBe(201);
    const id = reg.json().user.id;
    expect(reg.json().user.email).toBe('josé@example.com');
    for (const typed of ['josé@example.com', nfd, ' JOSÉ@EXAMPLE.COM ']) {
      const r = await login(typed);
      expect(r.statusCode).toBe(200);
      expect(r.json().user.id).toBe(id);
    }
    const again = await register('josé@example.com');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('email_taken');
  });

  it('registers an IDN domain once, whether typed in Unicode or punycode', async () => {
    const reg = await register('a@münchen.de');
    expect(reg.statusCode).toBe(201);
    expect((await login('a@xn--mnchen-3ya.de')).json().user.id).toBe(reg.json().user.id);
    expect((await login('A@MÜNCHEN.DE')).json().user.id).toBe(reg.json().user.id);
    expect((await register('a@xn--mnchen-3ya.de')).statusCode).toBe(409);
  });

  it('recovers an account by its Unicode address typed another way', async () => {
    const reg = await register('zoë@example.org');
    const r = await inject({
      method: 'POST',
      url: '/api/auth/recover',
      payload: { email: 'ZOE\u0308@example.org', recoveryKey: reg.json().recoveryKey, next: 'recovered passphrase one' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().user.id).toBe(reg.json().user.id);
  });

  it.each(['no-at-sign', 'two words@example.com', 'a\u0000b@example.com', `${'x'.repeat(250)}@example.com`])('still refuses %j', async (email) => {
    const r = await register(email);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('invalid_request');
  });
});
