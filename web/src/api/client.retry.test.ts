import { describe, expect, it } from 'vitest';
import { toApiError } from './client';

const limited = (retryAfter: string, message = 'Too many attempts. Try again later.') =>
  new Response(JSON.stringify({ error: { code: 'rate_limited', message } }), {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after': retryAfter },
  });

describe('429 messages', () => {
  it('say how long to wait, from Retry-After', async () => {
    expect((await toApiError(limited('1'))).message).toBe('Too many attempts. Try again in 1 second.');
    expect((await toApiError(limited('45'))).message).toBe('Too many attempts. Try again in 45 seconds.');
    expect((await toApiError(limited('290'))).message).toBe('Too many attempts. Try again in 5 minutes.');
    expect((await toApiError(limited('7200'))).message).toBe('Too many attempts. Try again in 2 hours.');
    expect((await toApiError(limited('30', 'The server is busy with other exports. Try again shortly.'))).message).toBe(
      'The server is busy with other exports. Try again in 30 seconds.',
    );
  });

  it('keep the server sentence when no wait was sent', async () => {
    const res = new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'Too many attempts. Try again later.' } }), { status: 429 });
    expect((await toApiError(res)).message).toBe('Too many attempts. Try again later.');
  });
});
