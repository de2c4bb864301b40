import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseProm, sample } from '../../test-support/server/prom.js';
import { parseSse } from '../../test-support/server/sse.js';

type User = Awaited<ReturnType<typeof signUp>>;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (no deadline of its own: the test's timeout is the limit). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await wait(20);
}

describe.each(dbTargets())('chat: metrics labels, limits, export names, Stop before the first token (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let base: string;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const chat = (user: User, payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload });
  const metrics = async () => parseProm((await inject({ method: 'GET', url: '/metrics' })).body);
  const fast = () => Object.assign(fake.options, { tokens: ['Fine', '.'], tokenDelayMs: 0 });
  const stopped = async () =>
    (await metrics()).filter((m) => m.name === 'cv_chat_answers_total' && m.labels.outcome === 'stopped').reduce((n, m) => n + m.value, 0);

  /**
   * Sends a turn over real HTTP and presses Stop once the model has the request but before its
   * first token. The server counts the stopped answer before it would save anything, so a later
   * complete turn (its id returned) is what the test reads after.
   */
  async function stopBeforeFirstToken(user: User, url: string, body: unknown): Promise<string> {
    Object.assign(fake.options, { tokens: ['late'], tokenDelayMs: 60_000 });
    const before = await stopped();
    const asked = fake.requests.filter((r) => r.path === '/api/chat').length;
    const ac = new AbortController();
    const res = fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: user.headers.cookie! },
      body: JSON.stringify(body),
      signal: ac.signal,
    }).catch((err: Error) => err);
    await until(() => fake.requests.filter((r) => r.path === '/api/chat').length > asked);
    ac.abort();
    expect(await res).toBeInstanceOf(Error);
    await until(async () => (await stopped()) > before);
    fast();
    return (parseSse((await chat(user, { message: 'a later question' })).body).at(-1)!.data as { chatId: string }).chatId;
  }

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['test-model'], tokens: ['Fine', '.'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, OLLAMA_MODEL: 'test-model', RATE_LIMIT_CHAT_PER_MIN: '1000' });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sut.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('never turns a model name the runtime refused into a metrics label, nor lets such names crowd out the served ones', async () => {
    fast();
    const user = await signUp(sut.app);
    for (let i = 0; i < 22; i++) {
      const r = await chat(user, { message: `hi ${i}`, model: `patient-jane-doe-${i}:latest` });
      expect(r.statusCode).toBe(422);
      expect(r.json().error.code).toBe('model_not_found');
    }
    expect(parseSse((await chat(user, { message: 'What was my HbA1c?' })).body).at(-1)!.event).toBe('done');
    const text = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain('patient-jane-doe');
    const m = parseProm(text);
    expect(sample(m, 'cv_chat_answers_total', { model: 'unknown', outcome: 'error' })).toBe(22);
    expect(sample(m, 'cv_chat_answers_total', { model: 'test-model', outcome: 'done' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'cv_chat_time_to_first_token_seconds_count', { model: 'test-model' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'cv_chat_answers_total', { model: 'other', outcome: 'done' })).toBeUndefined();
  });

  it('limits a question to 4,000 UTF-16 units, as documented, not 4,000 code points', async () => {
    fast();
    const user = await signUp(sut.app);
    expect((await chat(user, { message: '😀'.repeat(2000) })).statusCode).toBe(200);
    for (const message of ['😀'.repeat(2001), '😀'.repeat(4000), `${'a'.repeat(3999)}😀`]) {
      const r = await chat(user, { message });
      expect(r.statusCode, `${message.length} units`).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
    }
  });

  it('names a chat export after a non-Latin title as well (filename*), keeping the ASCII fallback', async () => {
    fast();
    const user = await signUp(sut.app);
    const names = new Set<string>();
    for (const question of ['我的血压是多少？', 'Какой у меня гемоглобин?', 'ما هو السكر التراكمي؟']) {
      const { chatId } = parseSse((await chat(user, { message: question })).body).at(-1)!.data as { chatId: string };
      const r = await inject({ method: 'GET', url: `/api/chats/${chatId}/export`, headers: user.headers });
      expect(r.statusCode).toBe(200);
      const header = String(r.headers['content-disposition']);
      expect(header).toMatch(/^attachment; filename="chat-export\.md"; filename\*=UTF-8''[A-Za-z0-9%._~-]+$/);
      names.add(decodeURIComponent(header.split("UTF-8''")[1]!));
    }
    expect([...names]).toEqual(['chat-我的血压是多少.md', 'chat-какой-у-меня-гемоглобин.md', 'chat-ما-هو-السكر-التراكمي.md']);
  });

  it('keeps nothing of a turn stopped before the first token: no empty new chat, no extra turn, the old answer kept', async () => {
    fast();
    const user = await signUp(sut.app);
    const later = await stopBeforeFirstToken(user, '/api/chat', { message: 'a new question, stopped at once' });
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats.map((c: { id: string }) => c.id)).toEqual([later]);

    const { chatId } = parseSse((await chat(user, { message: 'first question' })).body).at(-1)!.data as { chatId: string };
    const thread = async () => (await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json();
    const before = await thread();
    expect(before.messages).toHaveLength(2);
    await stopBeforeFirstToken(user, '/api/chat', { message: 'a follow-up, stopped at once', chatId });
    expect((await thread()).messages).toEqual(before.messages);
    await stopBeforeFirstToken(user, `/api/chats/${chatId}/regenerate`, {});
    expect((await thread()).messages).toEqual(before.messages);
  });
});
