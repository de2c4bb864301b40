import { describe, expect, it } from 'vitest';
import { signInFailure } from './sign-in-failure.js';

const api = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('signInFailure (npm run export)', () => {
  it('says a rate limit is one, with the wait from Retry-After', async () => {
    expect(await signInFailure(api(429, 'rate_limited', 'Too many attempts. Try again later.', { 'retry-after': '52' }))).toBe(
      'Too many sign-in attempts: try again in 52 seconds.',
    );
    expect(await signInFailure(api(429, 'rate_limited', 'Too many requests.'))).toBe('Too many sign-in attempts: try again later.');
  });

  it("passes the API's own message on, and says something true for anything else", async () => {
    expect(await signInFailure(api(401, 'invalid_credentials', 'Email or passphrase is incorrect.'))).toBe('Email or passphrase is incorrect.');
    expect(await signInFailure(api(503, 'unavailable', 'The database is not reachable.'))).toBe('The database is not reachable.');
    expect(await signInFailure(new Response('<html>', { status: 502 }))).toBe('Sign-in failed (HTTP 502).');
    expect(await signInFailure(new Response('', { status: 401 }))).toBe('Email or passphrase is incorrect.');
  });
});
