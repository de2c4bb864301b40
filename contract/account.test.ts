import { describe, expect, it } from 'vitest';
import { LoginBody, RecoverBody, RegisterBody, isEmailAddress, normalizeEmail } from './account.js';

const register = (email: string) => RegisterBody.safeParse({ email, passphrase: 'correct horse battery staple' });

describe('email addresses', () => {
  it.each([
    ['josé@example.com', 'josé@example.com'],
    ['jose\u0301@example.com', 'josé@example.com'], // NFD: the same address
    ['  JOSÉ@Example.COM ', 'josé@example.com'],
    ['a@münchen.de', 'a@xn--mnchen-3ya.de'],
    ['a@MÜNCHEN.DE', 'a@xn--mnchen-3ya.de'],
    ['a@xn--mnchen-3ya.de', 'a@xn--mnchen-3ya.de'],
    ['用户@例子.广告', '用户@xn--fsqu00a.xn--4rr70v'],
    ['alice+tag@example.org', 'alice+tag@example.org'],
  ])('registers %j as %j', (typed, stored) => {
    const r = register(typed);
    expect(r.success).toBe(true);
    expect(r.data?.email).toBe(stored);
    expect(normalizeEmail(typed)).toBe(stored);
  });

  it.each([
    'no-at-sign.example.com',
    'two words@example.com',
    'a@exa mple.com',
    'tab\t@example.com',
    'ctrl\u0007@example.com',
    'a@example',
    'a@127.0.0.1',
    'a@[127.0.0.1]',
    '.a@example.com',
    'a..b@example.com',
    'a@-example.com',
    'a@ex_ample.com',
    'a@example.com/path',
    'a@evil.com:80',
    '@example.com',
  ])('refuses %j', (typed) => {
    const r = register(typed);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('must be a valid email address');
  });

  it('refuses more than 254 characters before looking at the address', () => {
    expect(register(`${'a'.repeat(250)}@example.com`).success).toBe(false);
  });

  it('never throws while normalising what is not an address', () => {
    for (const s of ['', '@', 'a@', 'a@b@c.com', 'a@%zz.com', 'a@[::1]']) {
      expect(() => normalizeEmail(s)).not.toThrow();
      expect(isEmailAddress(normalizeEmail(s))).toBe(false);
    }
  });

  it('sign-in and recovery see the same spelling the service normalises (the schema only trims)', () => {
    expect(LoginBody.parse({ email: ' a@münchen.de ', passphrase: 'x' }).email).toBe('a@münchen.de');
    expect(RecoverBody.parse({ email: ' a@münchen.de ', recoveryKey: 'k', next: 'long enough passphrase' }).email).toBe('a@münchen.de');
  });
});
