import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseProm, sample } from '../../test-support/server/prom.js';
import { parseSse } from '../../test-support/server/sse.js';

type User = Awaited<ReturnType<typeof signUp>>;

/** The server's log lines at pino level 50 (error) or above, from `since` (a length of `logs()`) on. */
function errorLines(sut: TestServer, since = 0): string[] {
  return sut
    .logs()
    .slice(since)
    .split('\n')
    .filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 50);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (no deadline of its own: the test's timeout is the limit). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await wait(20);
}

/** A chat request over real HTTP, read as it streams: `next()` gives each event as it arrives. */
async function openChat(base: string, user: User, path: string, body: unknown) {
  const ac = new AbortController();
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: user.headers.cookie! },
    body: JSON.stringify(body),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const next = async (): Promise<{ event: string; data: { code?: string } } | null> => {
    for (;;) {
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        return parseSse(`${block}\n\n`)[0]!;
      }
      const r = await reader.read();
      if (r.done) return null;
      buf += decoder.decode(r.value, { stream: true });
    }
  };
  const rest = async () => {
    const events = [];
    for (let e = await next(); e; e = await next()) events.push(e);
    return events;
  };
  return { res, next, rest, abort: () => ac.abort() };
}

describe.each(dbTargets())('chat guards (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let base: string;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const chat = (user: User, payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload });
  const slow = () => Object.assign(fake.options, { tokens: Array.from({ length: 150 }, (_, i) => ` t${i}`), tokenDelayMs: 20 });
  const fast = () => Object.assign(fake.options, { tokens: ['Fine', '.'], tokenDelayMs: 0 });

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['test-model'], tokens: ['Fine', '.'] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_MODEL: 'test-model',
      RATE_LIMIT_CHAT_PER_MIN: '6',
      // One sandbox: a second user's turn waits for the first one's.
      SANDBOX_MAX: '1',
    });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sut.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('limits chat per signed-in user: requests without a session or with a bad body use up nobody’s answers', async () => {
    fast();
    const a = await signUp(sut.app);
    const b = await signUp(sut.app);
    // All from the same address as the users.
    for (let i = 0; i < 5; i++) expect((await inject({ method: 'POST', url: '/api/chat', payload: { message: 'hi' } })).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await chat(a, { message: '' })).statusCode).toBe(400);
    for (let i = 0; i < 6; i++) expect((await chat(a, { message: `question ${i}` })).statusCode).toBe(200);
    const limited = await chat(a, { message: 'one more' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect((await chat(b, { message: 'my own question' })).statusCode).toBe(200);
  });

  it('refuses a cloud model with 400 cloud_model before anything is sent to a model', async () => {
    fast();
    const user = await signUp(sut.app);
    await inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title: 'Lab result', text: 'HbA1c 5.4%' } });
    const before = fake.requests.length;
    for (const model of ['gpt-oss:120b-cloud', 'x:cloud']) {
      const r = await chat(user, { message: 'What was my HbA1c?', model });
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.json().error.code).toBe('cloud_model');
    }
    expect(fake.requests.slice(before).filter((q) => q.path === '/api/chat')).toEqual([]);
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats).toEqual([]);
  });

  it('answers 422 model_not_found before the stream for a model the runtime does not have, without an error log', async () => {
    fast();
    const user = await signUp(sut.app);
    const since = sut.logs().length;
    const r = await chat(user, { message: 'hello?', model: 'not-installed:7b' });
    expect(r.statusCode).toBe(422);
    expect(r.json().error.code).toBe('model_not_found');
    expect(errorLines(sut, since)).toEqual([]);
    // The sandbox was fine: the next question is answered.
    expect(parseSse((await chat(user, { message: 'hello?' })).body).at(-1)!.event).toBe('done');
  });

  it('refuses a second turn on a chat while one is answering (409 chat_busy), so the thread stays paired', async () => {
    fast();
    const user = await signUp(sut.app);
    const chatId = parseSse((await chat(user, { message: 'first question' })).body).at(-1)!.data.chatId as string;
    slow();
    const streaming = await openChat(base, user, '/api/chat', { message: 'second question', chatId });
    expect((await streaming.next())!.event).toBe('sources');
    expect((await streaming.next())!.event).toBe('token');
    const busy = await chat(user, { message: 'third question', chatId });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.code).toBe('chat_busy');
    const regen = await inject({ method: 'POST', url: `/api/chats/${chatId}/regenerate`, headers: user.headers, payload: {} });
    expect(regen.statusCode).toBe(409);
    expect(regen.json().error.code).toBe('chat_busy');
    fast();
    const rest = await streaming.rest();
    expect(rest.at(-1)!.event).toBe('done');
    // Once the turn is over, the chat takes the next one.
    const after = parseSse((await chat(user, { message: 'third question', chatId })).body);
    expect(after.at(-1)!.event).toBe('done');
    const thread = (await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json();
    expect(thread.messages.map((m: { role: string; text: string }) => (m.role === 'user' ? m.text : 'answer'))).toEqual([
      'first question',
      'answer',
      'second question',
      'answer',
      'third question',
      'answer',
    ]);
  });

  it('ends a follow-up quietly when its chat is deleted while it streams', async () => {
    fast();
    const user = await signUp(sut.app);
    const chatId = parseSse((await chat(user, { message: 'first question' })).body).at(-1)!.data.chatId as string;
    slow();
    const since = sut.logs().length;
    const streaming = await openChat(base, user, '/api/chat', { message: 'a follow-up', chatId });
    expect((await streaming.next())!.event).toBe('sources');
    expect((await streaming.next())!.event).toBe('token');
    expect((await inject({ method: 'DELETE', url: `/api/chats/${chatId}`, headers: user.headers })).statusCode).toBe(204);
    const rest = await streaming.rest();
    expect(rest.filter((e) => e.event !== 'token')).toEqual([]);
    expect(errorLines(sut, since)).toEqual([]);
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats).toEqual([]);
  });

  it('logs no error when a client goes away while waiting for a sandbox', async () => {
    slow();
    const a = await signUp(sut.app);
    const b = await signUp(sut.app);
    const metric = async (name: string, labels: Record<string, string> = {}) =>
      sample(parseProm((await inject({ method: 'GET', url: '/metrics' })).body), name, labels) ?? 0;
    const failedWaits = () => metric('cv_sandbox_lease_wait_seconds_count', { outcome: 'error' });
    // A holds the only sandbox.
    const holding = await openChat(base, a, '/api/chat', { message: 'a long answer please' });
    expect((await holding.next())!.event).toBe('sources');
    const since = sut.logs().length;
    const failedBefore = await failedWaits();
    const leaving = new AbortController();
    const waiting = fetch(`${base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: b.headers.cookie! },
      body: JSON.stringify({ message: 'and mine?' }),
      signal: leaving.signal,
    }).catch((err: Error) => err);
    await until(async () => (await metric('cv_sandbox_queue_depth')) === 1);
    leaving.abort();
    expect(await waiting).toBeInstanceOf(Error);
    // The wait ended with the client gone; a later request is answered after the route has dealt with it.
    await until(async () => (await failedWaits()) > failedBefore);
    expect((await inject({ method: 'GET', url: '/api/chats', headers: b.headers })).json().chats).toEqual([]);
    expect(errorLines(sut, since)).toEqual([]);
    fast();
    expect((await holding.rest()).at(-1)!.event).toBe('done');
  });
});

describe.each(dbTargets())('an Ollama at OLLAMA_URL that stops answering (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let admin: User;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['test-model'], tokens: ['Fine', '.'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, OLLAMA_MODEL: 'test-model' });
    // The first account of an instance is its admin.
    admin = await signUp(sut.app);
    const answered = await inject({ method: 'POST', url: '/api/chat', headers: admin.headers, payload: { message: 'hello?' } });
    expect(parseSse(answered.body).at(-1)!.event).toBe('done');
    await fake.close();
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('answers chat 503 ai_offline before the stream, on the sandbox the pool had and on a new one', async () => {
    const since = sut.logs().length;
    for (let i = 0; i < 2; i++) {
      const r = await inject({ method: 'POST', url: '/api/chat', headers: admin.headers, payload: { message: 'hello?' } });
      expect(r.statusCode).toBe(503);
      expect(r.json().error.code).toBe('ai_offline');
    }
    // Not a failed generation, nor a server error; nor the pool's retries of a runtime that does not answer.
    expect(errorLines(sut, since)).toEqual([]);
  });

  it('answers PUT /api/models/defaults 503 models_unavailable, as the listing does, without an error log', async () => {
    const since = sut.logs().length;
    const r = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'test-model' } });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('models_unavailable');
    expect(errorLines(sut, since)).toEqual([]);
  });
});
