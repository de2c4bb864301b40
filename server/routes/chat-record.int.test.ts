import type { InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_TOKENS } from '../../sandbox/ollama.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

type User = Awaited<ReturnType<typeof signUp>>;

/**
 * What a chat keeps of its turns, read back over HTTP: each answer's own time through
 * Regenerate, the model a chat named, its automatic title, and the Markdown export.
 */
describe.each(dbTargets())('what a chat records (%s)', (target) => {
  const TOKENS = ['The', ' echo', ' was', ' normal', ' [1].'];
  let fake: FakeOllama;
  let sut: TestServer;
  let admin: User;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    // Two chat models and no embedding model: keyword retrieval, and a second default to switch to.
    fake = await startFakeOllama({ tokens: TOKENS, models: ['test-model', 'other-model'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, OLLAMA_NUM_CTX: '4096', OLLAMA_MODEL: 'test-model' });
    // The first account of an instance is its admin.
    admin = await signUp(sut.app);
  });
  afterEach(() => {
    fake.options.tokens = TOKENS;
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  const chat = async (headers: Record<string, string>, payload: Record<string, unknown>) => {
    const res = await inject({ method: 'POST', url: '/api/chat', headers, payload });
    expect(res.statusCode, res.body).toBe(200);
    const events = parseSse(res.body);
    expect(events.at(-1)!.event).toBe('done');
    return events;
  };
  const get = async (headers: Record<string, string>, chatId: string) => {
    const r = await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers });
    expect(r.statusCode).toBe(200);
    return r.json();
  };
  const regenerate = async (headers: Record<string, string>, chatId: string) => {
    const r = await inject({ method: 'POST', url: `/api/chats/${chatId}/regenerate`, headers });
    expect(r.statusCode, r.body).toBe(200);
    expect(parseSse(r.body).at(-1)!.event).toBe('done');
  };
  const note = (user: User, title: string, text: string) => inject({ method: 'POST', url: '/api/items', headers: user.headers, payload: { title, text } });
  const lastModel = () => (fake.requests.filter((r) => r.path === '/api/chat').at(-1)!.body as { model: string }).model;

  it('gives every answer the time it was generated: the current one its regeneration, each alternative its own', async () => {
    const user = await signUp(sut.app);
    await note(user, 'Cardiology visit', 'The cardiologist reviewed the echo: normal.');
    const { chatId } = (await chat(user.headers, { message: 'What did my cardiologist say about the echo?' })).at(-1)!.data;
    const first = await get(user.headers, chatId);
    const [question, answer] = first.messages;
    // An answer never regenerated has its row's time, as chats stored before per-answer times did.
    expect(Date.parse(answer.createdAt)).toBeGreaterThan(Date.parse(question.createdAt));

    // Apart in time, so that each answer's own time can be told from the others'.
    await sleep(20);
    await regenerate(user.headers, chatId);
    const once = await get(user.headers, chatId);
    expect(once.messages[1].id).toBe(answer.id);
    expect(once.messages[1].alternatives.map((a: { createdAt: string }) => a.createdAt)).toEqual([answer.createdAt]);
    expect(Date.parse(once.messages[1].createdAt)).toBeGreaterThanOrEqual(Date.parse(answer.createdAt) + 20);

    await sleep(20);
    await regenerate(user.headers, chatId);
    const twice = await get(user.headers, chatId);
    expect(twice.messages[1].alternatives.map((a: { createdAt: string }) => a.createdAt)).toEqual([answer.createdAt, once.messages[1].createdAt]);
    expect(Date.parse(twice.messages[1].createdAt)).toBeGreaterThanOrEqual(Date.parse(once.messages[1].createdAt) + 20);
    // The question and the order of the thread stay as they were.
    expect(twice.messages.map((m: { id: string; role: string }) => [m.id, m.role])).toEqual([
      [question.id, 'user'],
      [answer.id, 'assistant'],
    ]);
    expect(twice.messages[0].createdAt).toBe(question.createdAt);
  });

  it('makes the automatic title one clean line: no control characters, no half of an emoji', async () => {
    const user = await signUp(sut.app);
    const started = async (message: string) => (await chat(user.headers, { message })).at(-1)!.data.chatId as string;
    const titleOf = async (message: string) => (await get(user.headers, await started(message))).title as string;

    const chatId = await started('weight\u001b[2J\u0007 check\u0085 \u009b1m  now');
    const cleaned = (await get(user.headers, chatId)).title;
    expect(cleaned).toBe('weight [2J check 1m now');
    // A title the rename rule accepts as it is.
    const renamed = await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title: cleaned } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().title).toBe(cleaned);
    const exported = await inject({ method: 'GET', url: `/api/chats/${chatId}/export`, headers: user.headers });
    expect(exported.body.split('\n')[0]).toBe('# weight \\[2J check 1m now');

    // 79 units, then an emoji of two: cut before it, not in the middle of its surrogate pair.
    const a79 = 'a'.repeat(79);
    expect(await titleOf(`${a79}😀 and more`)).toBe(a79);
    // A flag (two code points, four units) is kept whole or left out whole.
    expect(await titleOf(`${'b'.repeat(76)}🇩🇪🇩🇪 x`)).toBe(`${'b'.repeat(76)}🇩🇪`);
    // Nothing left to show.
    expect(await titleOf('\u0007\u001b\u0085')).toBe('Untitled chat');
    expect(await titleOf('\u200b\u2066\u2060 \ufeff?')).toBe('?');
    // Bidi controls would reverse the rest of the chat list's line: left out.
    expect(await titleOf('\u001b[31mred\u0007bell\u0085 and \u202e bidi what is my bicycle?')).toBe('[31mred bell and bidi what is my bicycle?');
    // A question of only invisible characters is as empty as one of spaces; so is such a title.
    const blank = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: '\u200b' } });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.message).toMatch(/must not be empty/);
    for (const title of ['\u200b', ' \u2060\ufeff ', 'bidi \u202eevil', 'x\u2067y', 'lone \ud800 surrogate']) {
      const r = await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title } });
      expect(r.statusCode, JSON.stringify(title)).toBe(400);
    }
    expect((await get(user.headers, chatId)).title).toBe(cleaned);

    const list = (await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats as Array<{ title: string }>;
    for (const { title } of list) {
      // eslint-disable-next-line no-control-regex -- control characters are what must be gone
      expect(title).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(title).not.toMatch(/\p{Cs}/u);
      expect(title).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      expect(title).toMatch(/[^\s\p{Cf}]/u);
    }
  });

  it('exports under each answer only the sources its [n] markers cite, and marks an answer cut off at the length limit', async () => {
    const user = await signUp(sut.app);
    await note(user, 'Cardiology visit', 'The cardiologist reviewed the echo: normal.');
    await note(user, 'Echo lab', 'Echo recorded at the lab; the cardiologist will read it.');
    await note(user, 'Cardiologist invoice', 'Invoice from the cardiologist for the echo.');
    fake.options.tokens = ['The', ' echo', ' was', ' normal', ' [2].'];
    const events = await chat(user.headers, { message: 'What did my cardiologist say about the echo?' });
    const given = events[0]!.data.sources as Array<{ n: number; title: string }>;
    expect(given.length).toBeGreaterThanOrEqual(2);
    const { chatId } = events.at(-1)!.data;

    // A follow-up whose answer reaches the length limit, citing [1] only.
    fake.options.tokens = [' [1]', ...Array.from({ length: ANSWER_TOKENS + 10 }, (_, i) => ` w${i}`)];
    const long = await chat(user.headers, { message: 'And what did the cardiologist say about the echo later?', chatId });
    expect(long.at(-1)!.data.cutOff).toBe(true);
    const later = long[0]!.data.sources as Array<{ n: number; title: string }>;
    expect(later.length).toBeGreaterThanOrEqual(2);

    const r = await inject({ method: 'GET', url: `/api/chats/${chatId}/export`, headers: user.headers });
    expect(r.statusCode).toBe(200);
    const [, firstAnswer = '', secondAnswer = ''] = r.body.split(/^## Answer/m);
    const listed = (part: string) => part.split('\n').filter((l) => l.startsWith('- ['));
    // Numbered as in the text: [2] stays [2] although [1] is left out.
    expect(listed(firstAnswer)).toEqual([expect.stringMatching(`^- \\[2\\] ${given.find((s) => s.n === 2)!.title} \\(note`)]);
    expect(firstAnswer).not.toContain('Cut off');
    expect(listed(secondAnswer)).toEqual([expect.stringMatching(`^- \\[1\\] ${later.find((s) => s.n === 1)!.title} \\(note`)]);
    expect(secondAnswer).toContain('_Cut off at the length limit._');
    expect(secondAnswer).not.toContain('_Stopped before the end._');
  });

  it('keeps the model a chat named even when it was the default then; a chat that named none follows the default', async () => {
    const user = await signUp(sut.app);
    const named = (await chat(user.headers, { message: 'How is my weight?', model: 'test-model' })).at(-1)!.data.chatId;
    const following = (await chat(user.headers, { message: 'How is my sleep?' })).at(-1)!.data.chatId;
    const echoed = (await chat(user.headers, { message: 'How are my steps?' })).at(-1)!.data.chatId;
    expect(lastModel()).toBe('test-model');
    expect((await get(user.headers, named)).model).toBe('test-model');

    const set = (chatModel: string) => inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: chatModel } });
    try {
      expect((await set('other-model')).statusCode).toBe(200);
      expect((await get(user.headers, named)).model).toBe('test-model');
      await chat(user.headers, { message: 'And last week?', chatId: named });
      expect(lastModel()).toBe('test-model');
      await regenerate(user.headers, named);
      expect(lastModel()).toBe('test-model');

      expect((await get(user.headers, following)).model).toBe('other-model');
      await chat(user.headers, { message: 'And last week?', chatId: following });
      expect(lastModel()).toBe('other-model');

      // A follow-up sending back the model the chat shows (as the app does, the default here)
      // does not pin it: the chat still follows the default.
      const shown = (await get(user.headers, echoed)).model;
      expect(shown).toBe('other-model');
      await chat(user.headers, { message: 'And last month?', chatId: echoed, model: shown });
      expect((await set('test-model')).statusCode).toBe(200);
      expect((await get(user.headers, echoed)).model).toBe('test-model');
      expect((await get(user.headers, following)).model).toBe('test-model');
      await chat(user.headers, { message: 'And this year?', chatId: echoed });
      expect(lastModel()).toBe('test-model');
    } finally {
      await set('test-model');
    }
  });

  it('takes a model name without a tag as the same model with `:latest`, as Ollama does', async () => {
    const user = await signUp(sut.app);
    const set = (chatModel: string) => inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: chatModel } });
    const following = (await chat(user.headers, { message: 'How is my sleep?' })).at(-1)!.data.chatId;
    // Ollama names the default `test-model` `test-model:latest` too: a chat that follows the
    // default and picks it names its own model, which pins nothing.
    await chat(user.headers, { message: 'And last week?', chatId: following, model: 'test-model:latest' });
    expect(lastModel()).toBe('test-model:latest');
    try {
      expect((await set('other-model')).statusCode).toBe(200);
      expect((await get(user.headers, following)).model).toBe('other-model');
      // This Ollama lists `other-model`: the default may be named with its tag too.
      expect((await set('other-model:latest')).json()).toEqual({ chat: 'other-model:latest', embed: 'nomic-embed-text' });
      expect((await get(user.headers, following)).model).toBe('other-model:latest');
      // The default, named either way, is not deletable.
      for (const name of ['other-model', 'other-model:latest']) {
        const refused = await inject({ method: 'DELETE', url: `/api/models/${name}`, headers: admin.headers });
        expect(refused.statusCode, name).toBe(409);
        expect(refused.json().error.code).toBe('model_is_default');
      }
    } finally {
      await set('test-model');
    }
  });

  it('keeps the question and the words answered when the model fails mid-answer, marked stopped', async () => {
    const user = await signUp(sut.app);
    fake.options.mode = 'fail-midstream';
    try {
      const res = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'What did the echo show?' } });
      expect(res.statusCode).toBe(200);
      const events = parseSse(res.body);
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'ai_error' } });
    } finally {
      fake.options.mode = 'ok';
    }
    const list = (await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json() as { chats: Array<{ id: string }> };
    expect(list.chats).toHaveLength(1);
    const thread = await get(user.headers, list.chats[0]!.id);
    expect(thread.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(thread.messages[0].text).toBe('What did the echo show?');
    expect(thread.messages[1]).toMatchObject({ stopped: true, text: 'The echo' });
    // Regenerate now has its question.
    await regenerate(user.headers, list.chats[0]!.id);
  });
});
