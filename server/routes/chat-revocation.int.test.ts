import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { cookieFrom, dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

const PASS = 'correct horse battery staple';

/**
 * Ending a session or deleting a token must end what it still has running: a chat answer that
 * keeps streaming and is then saved would be written with keys whose owner just revoked them.
 */
describe.each(dbTargets())('revoking a session or token ends its chat streams (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let base: string;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    // Slow enough that an answer is still streaming when the revocation lands.
    fake = await startFakeOllama({ tokens: Array.from({ length: 40 }, (_, i) => ` t${i}`), tokenDelayMs: 250 });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, OLLAMA_MODEL: 'test-model' });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sut.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  async function login(email: string, passphrase = PASS): Promise<{ cookie: string }> {
    const r = await inject({ method: 'POST', url: '/api/auth/login', payload: { email, passphrase } });
    expect(r.statusCode).toBe(200);
    return { cookie: cookieFrom(r.headers['set-cookie']) };
  }

  /**
   * Starts a chat over real HTTP (inject would hold the whole stream) on `headers` and returns
   * once its first token arrived, so the revocation lands mid-answer; then the rest of its events.
   */
  async function startChat(headers: Record<string, string>): Promise<() => Promise<Array<{ event: string; data: any }>>> {
    const res = await fetch(`${base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ message: 'what is in my vault?' }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/event: token/.test(text)) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value, { stream: true });
    }
    return async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
      return parseSse(text);
    };
  }

  /** The stream was cut: no `done`, and its last event says it was revoked. */
  function expectEnded(events: Array<{ event: string; data: any }>, code: string): void {
    expect(events.map((e) => e.event)).toContain('token');
    expect(events.map((e) => e.event)).not.toContain('done');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code } });
  }

  const revocations: Array<[string, (u: Awaited<ReturnType<typeof signUp>>, other: { cookie: string }) => Promise<void>]> = [
    [
      'end all other sessions',
      async (u) => {
        const r = await inject({ method: 'POST', url: '/api/auth/sessions/revoke-others', headers: u.headers });
        expect(r.json()).toEqual({ revoked: 1 });
      },
    ],
    [
      'its own logout',
      async (_u, other) => {
        expect((await inject({ method: 'POST', url: '/api/auth/logout', headers: other })).statusCode).toBe(204);
      },
    ],
    [
      'ending that one session',
      async (u) => {
        const list = (await inject({ method: 'GET', url: '/api/auth/sessions', headers: u.headers })).json() as {
          sessions: Array<{ id: string; current: boolean }>;
        };
        const id = list.sessions.find((s) => !s.current)!.id;
        expect((await inject({ method: 'DELETE', url: `/api/auth/sessions/${id}`, headers: u.headers })).statusCode).toBe(204);
      },
    ],
    [
      'a passphrase change',
      async (u) => {
        const r = await inject({ method: 'POST', url: '/api/auth/passphrase', headers: u.headers, payload: { current: PASS, next: `${PASS} 2` } });
        expect(r.statusCode).toBe(204);
      },
    ],
  ];

  it.each(revocations)('%s stops the answer and saves nothing', async (_name, revoke) => {
    const user = await signUp(sut.app);
    const other = await login(user.email);
    const aborted = fake.nextAbort();
    const rest = await startChat(other);
    await revoke(user, other);
    expectEnded(await rest(), 'session_ended');
    await aborted;
    const chats = await inject({ method: 'GET', url: '/api/chats', headers: user.headers });
    expect(chats.json().chats).toEqual([]);
  });

  it('deleting an API token stops its answer and saves nothing', async () => {
    const user = await signUp(sut.app);
    const created = await inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: { name: 'script', scopes: ['chat', 'read'] } });
    expect(created.statusCode).toBe(201);
    const aborted = fake.nextAbort();
    const rest = await startChat({ authorization: `Bearer ${created.json().token}` });
    expect((await inject({ method: 'DELETE', url: `/api/tokens/${created.json().id}`, headers: user.headers })).statusCode).toBe(204);
    expectEnded(await rest(), 'invalid_token');
    await aborted;
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats).toEqual([]);
  });

  it('"end all other sessions" leaves the API tokens’ answers running', async () => {
    const user = await signUp(sut.app);
    const created = await inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: { name: 'script', scopes: ['chat'] } });
    const rest = await startChat({ authorization: `Bearer ${created.json().token}` });
    expect((await inject({ method: 'POST', url: '/api/auth/sessions/revoke-others', headers: user.headers })).statusCode).toBe(200);
    expect((await rest()).at(-1)!.event).toBe('done');
  });

  it('deleting the account stops its answers', async () => {
    const user = await signUp(sut.app);
    const other = await login(user.email);
    const aborted = fake.nextAbort();
    const rest = await startChat(other);
    const del = await inject({ method: 'DELETE', url: '/api/account', headers: user.headers, payload: { passphrase: PASS } });
    expect(del.statusCode).toBe(204);
    expectEnded(await rest(), 'session_ended');
    await aborted;
  });
});
