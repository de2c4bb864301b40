import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { MAX_DEPTH, findUnacceptable } from './validator.js';

/** `[[[…]]]` nested `depth` deep around `inner`, as JSON text (never built as a value here). */
const nested = (depth: number, inner = '0') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('findUnacceptable', () => {
  it('stops at the depth limit in a body nested as deep as 1 MiB allows, and names where', () => {
    expect(findUnacceptable(JSON.parse(nested(500_000)))).toEqual({ problem: 'depth', path: Array(MAX_DEPTH).fill(0) });
    expect(findUnacceptable(JSON.parse(nested(MAX_DEPTH)))).toBeUndefined();
    expect(findUnacceptable({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toEqual({ problem: 'nul', path: ['a', 1, 'c'] });
    expect(findUnacceptable({ ['k\u0000']: 1 })).toEqual({ problem: 'nul', path: [] });
    expect(findUnacceptable(JSON.parse(nested(MAX_DEPTH - 1, '"a\\u0000"')))).toEqual({ problem: 'nul', path: Array(MAX_DEPTH - 1).fill(0) });
  });
});

describe.each(dbTargets())('requests at the edges of what the router and parsers take (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    sut = await startTestServer(target);
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('are a 400 on a route without a session and on one that stores free-form data (was minutes of a blocked server, then an item without its data)', async () => {
    const depth = 400_000; // ~800 KB, inside the 1 MiB body limit
    const login = await sut.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: nested(depth) });
    expect(login.statusCode, login.body).toBe(400);
    const item = await sut.app.inject({
      method: 'POST',
      url: '/api/items',
      headers: { ...user.headers, 'content-type': 'application/json' },
      payload: `{"kind":"note","title":"deep","text":"x","data":{"a":${nested(depth)}}}`,
    });
    expect(item.statusCode, item.body.slice(0, 300)).toBe(400);
    expect((item.json() as { error: { code: string } }).error.code).toBe('invalid_request');
    expect(sut.logs()).not.toMatch(/"level":50/);
  });

  it('the router answers a broken percent-encoding and an overlong path part in the usual error body, without echoing the path', async () => {
    const expectError = (res: { statusCode: number; body: string }, status: number, code: string) => {
      expect(res.statusCode, res.body).toBe(status);
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(code);
      expect(res.body).not.toContain('secret-looking');
    };
    expectError(await sut.app.inject({ method: 'GET', url: '/api/items/secret-looking%E0%A4%A', headers: user.headers }), 400, 'bad_url');
    expectError(await sut.app.inject({ method: 'GET', url: `/api/items/secret-looking${'a'.repeat(1100)}`, headers: user.headers }), 414, 'url_too_long');
    // A model name of the 200 characters a pull takes, percent-encoded, reaches its route.
    const name = encodeURIComponent(`library/${'m'.repeat(180)}:latest`);
    const res = await sut.app.inject({ method: 'DELETE', url: `/api/models/${name}`, headers: user.headers });
    expect(res.statusCode, res.body).not.toBe(414);
    // No model runtime here: the route itself answers that.
    expect((res.json() as { error: { code: string } }).error.code).toBe('models_unavailable');
  });

  it('a JSON route sent text is a 415, and a route whose body is all optional takes none', async () => {
    const text = await sut.app.inject({
      method: 'POST',
      url: '/api/items',
      headers: { ...user.headers, 'content-type': 'text/plain' },
      payload: '{"title":"x"}',
    });
    expect(text.statusCode, text.body).toBe(415);
    expect((text.json() as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    // The first account is the admin: an invite with the default lifetime, no body sent at all.
    const invite = await sut.app.inject({ method: 'POST', url: '/api/invites', headers: user.headers });
    expect(invite.statusCode, invite.body).toBe(201);
  });
});
