import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
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

describe('errors of the HTTP parser, before there is a request', () => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer('pglite');
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  /** What the server answers to `raw` sent over a plain socket. */
  const send = (raw: string) =>
    new Promise<string>((resolve, reject) => {
      const { port } = sut.app.server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1', () => socket.end(raw));
      let got = '';
      socket.on('data', (d) => (got += d.toString('utf8')));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    });
  const parse = (answer: string) => {
    const [head, body] = answer.split('\r\n\r\n');
    return { status: Number(head!.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head!)?.[1], body: JSON.parse(body!) as unknown };
  };

  it('answers headers too large and a malformed request in the API error shape', async () => {
    const big = parse(await send(`GET /api/auth/me HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`));
    expect(big).toEqual({
      status: 431,
      type: 'application/json; charset=utf-8',
      body: { error: { code: 'headers_too_large', message: 'The request headers are too large.' } },
    });
    const garbled = parse(await send('GARBLED\r\n\r\n'));
    expect(garbled.status).toBe(400);
    expect(garbled.body).toEqual({ error: { code: 'bad_request', message: 'The request could not be read.' } });
    expect(sut.logs()).not.toMatch(/"level":50/);
  });
});
