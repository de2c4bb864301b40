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

describe.each(dbTargets())('deeply nested JSON bodies (%s)', (target) => {
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
});
