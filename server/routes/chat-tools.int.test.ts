import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { sandboxesUsedUp } from '../../test-support/server/prom.js';
import { parseSse } from '../../test-support/server/sse.js';

describe.each(dbTargets())('answer tools: rename, export, regenerate, what the model saw (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    fake = await startFakeOllama({ tokens: ['The', ' echo', ' was', ' normal', ' [1].'] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_NUM_CTX: '4096',
      OLLAMA_MODEL: 'test-model',
      SANDBOX_MAX_USES: '1',
    });
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  const ask = async (headers: Record<string, string>) => {
    const res = await inject({ method: 'POST', url: '/api/chat', headers, payload: { message: 'What did my cardiologist say about the echo?' } });
    expect(res.statusCode).toBe(200);
    return parseSse(res.body);
  };

  it('streams and stores what the model saw (sources, budget, model, context) but never the prompt', async () => {
    const user = await signUp(sut.app);
    const item = (
      await inject({
        method: 'POST',
        url: '/api/items',
        headers: user.headers,
        payload: { title: 'Cardiology visit', text: 'The cardiologist reviewed the echo: normal.' },
      })
    ).json();
    const events = await ask(user.headers);
    const context = events[0]!.data.context;
    expect(context).toEqual({
      model: 'test-model',
      numCtx: 4096,
      promptTokens: expect.any(Number),
      answerReserve: 1024,
      sourcesFound: expect.any(Number),
      sourcesUsed: 1,
      historyMessages: 0,
      // The stand-in answers /api/embed too, so retrieval is hybrid.
      retrieval: 'hybrid',
    });
    expect(context.promptTokens).toBeGreaterThan(50);
    expect(context.promptTokens).toBeLessThanOrEqual(4096 - 1024);
    const { chatId } = events.at(-1)!.data;
    const chat = (await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json();
    expect(chat.messages[1]).toMatchObject({ role: 'assistant', text: 'The echo was normal [1].', context, sources: [{ n: 1, itemId: item.id }] });

    await sut.stop();
    const dump = await sut.dumpDatabase();
    await sut.restart();
    // The rules the model is given are nowhere in the database, in clear or otherwise.
    expect(dump).not.toContain('Answer only from the numbered sources');
    expect(dump).not.toContain('cardiologist');
  });

  it('renames a chat (sealed again) and refuses empty titles and other users', async () => {
    const user = await signUp(sut.app);
    const { chatId } = (await ask(user.headers)).at(-1)!.data;
    const r = await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title: 'Echo follow-up' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: chatId, title: 'Echo follow-up' });
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats[0].title).toBe('Echo follow-up');
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json().title).toBe('Echo follow-up');
    const empty = await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title: '   ' } });
    expect(empty.statusCode).toBe(400);
    const other = await signUp(sut.app);
    expect((await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: other.headers, payload: { title: 'mine now' } })).statusCode).toBe(404);
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}/export`, headers: other.headers })).statusCode).toBe(404);
  });

  it('regenerates from a fresh sandbox lease, keeping the previous answer as an alternative', async () => {
    const user = await signUp(sut.app);
    await inject({
      method: 'POST',
      url: '/api/items',
      headers: user.headers,
      payload: { title: 'Cardiology visit', text: 'The cardiologist reviewed the echo: normal.' },
    });
    const { chatId } = (await ask(user.headers)).at(-1)!.data;
    const leasesBefore = await sandboxesUsedUp(sut.app);
    const chatCallsBefore = fake.requests.filter((r) => r.path === '/api/chat').length;

    const res = await inject({ method: 'POST', url: `/api/chats/${chatId}/regenerate`, headers: user.headers, payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(res.body);
    expect(events.map((e) => e.event)).toEqual(['sources', 'token', 'token', 'token', 'token', 'token', 'done']);
    expect(events.at(-1)!.data.chatId).toBe(chatId);
    // A fresh lease: with SANDBOX_MAX_USES=1 a sandbox serves one turn, so the new answer came
    // from another one (the question's embedding, where there is a model for it, shares it).
    expect(await sandboxesUsedUp(sut.app)).toBe(leasesBefore + 1);
    const calls = fake.requests.filter((r) => r.path === '/api/chat');
    expect(calls).toHaveLength(chatCallsBefore + 1);
    // The same question, without the answer being replaced in its history.
    const sent = (calls.at(-1)!.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(sent.map((m) => m.role)).toEqual(['system', 'user']);
    expect(sent[1]!.content).toContain('What did my cardiologist say about the echo?');

    const chat = (await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json();
    expect(chat.messages).toHaveLength(2);
    expect(chat.messages[1].text).toBe('The echo was normal [1].');
    expect(chat.messages[1].alternatives).toHaveLength(1);
    expect(chat.messages[1].alternatives[0]).toMatchObject({ text: 'The echo was normal [1].', sources: [{ n: 1 }], context: { model: 'test-model' } });

    // Twice more: alternatives accumulate, oldest first.
    const second = await inject({ method: 'POST', url: `/api/chats/${chatId}/regenerate`, headers: user.headers });
    expect(second.statusCode, second.body).toBe(200);
    const again = (await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json();
    expect(again.messages[1].alternatives).toHaveLength(2);
    expect(again.messages[1].id).toBe(chat.messages[1].id);

    const nope = await inject({ method: 'POST', url: '/api/chats/00000000-0000-4000-8000-000000000000/regenerate', headers: user.headers });
    expect(nope.statusCode).toBe(404);
  });

  it('answers with the model a chat picked: stored sealed with the chat, sent to the sandbox, kept by follow-ups and regenerate', async () => {
    const user = await signUp(sut.app);
    const modelOf = () => (fake.requests.filter((r) => r.path === '/api/chat').at(-1)!.body as { model: string }).model;
    const first = await inject({
      method: 'POST',
      url: '/api/chat',
      headers: user.headers,
      payload: { message: 'What did the echo show?', model: 'qwen2.5:7b-instruct' },
    });
    expect(first.statusCode).toBe(200);
    const events = parseSse(first.body);
    expect(events[0]!.data.context.model).toBe('qwen2.5:7b-instruct');
    expect(modelOf()).toBe('qwen2.5:7b-instruct');
    const { chatId } = events.at(-1)!.data;
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json().model).toBe('qwen2.5:7b-instruct');

    // A follow-up without a model keeps the chat's; regenerate and rename too.
    await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'And the ECG?', chatId } });
    expect(modelOf()).toBe('qwen2.5:7b-instruct');
    await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title: 'Heart' } });
    await inject({ method: 'POST', url: `/api/chats/${chatId}/regenerate`, headers: user.headers });
    expect(modelOf()).toBe('qwen2.5:7b-instruct');
    // Picking another one switches the chat.
    await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'Anything else?', chatId, model: 'llama3.1:8b' } });
    expect(modelOf()).toBe('llama3.1:8b');
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: user.headers })).json().model).toBe('llama3.1:8b');
    // Another chat still gets the server's default.
    await ask(user.headers);
    expect(modelOf()).toBe('test-model');

    const bad = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'x', model: '../../etc/passwd' } });
    expect(bad.statusCode).toBe(400);
    await sut.stop();
    const dump = await sut.dumpDatabase();
    await sut.restart();
    expect(dump).not.toContain('qwen2.5');
  });

  it("exports a chat as Markdown with every answer's sources listed", async () => {
    const user = await signUp(sut.app);
    await inject({
      method: 'POST',
      url: '/api/items',
      headers: user.headers,
      payload: { title: 'Cardiology visit [2026]', text: 'The cardiologist reviewed the echo: normal.', occurredAt: '2026-02-20T10:00:00.000Z' },
    });
    const { chatId } = (await ask(user.headers)).at(-1)!.data;
    await inject({ method: 'PATCH', url: `/api/chats/${chatId}`, headers: user.headers, payload: { title: 'Echo: what Dr. Ng said' } });
    const r = await inject({ method: 'GET', url: `/api/chats/${chatId}/export`, headers: user.headers });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="chat-echo-what-dr-ng-said.md"; filename*=UTF-8''chat-echo-what-dr-ng-said.md`);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatch(/^# Echo: what Dr\. Ng said\n/);
    expect(r.body).toContain('> What did my cardiologist say about the echo?');
    expect(r.body).toContain('## Answer (test-model)\n\nThe echo was normal [1].\n\n**Sources**\n\n- [1] Cardiology visit \\[2026\\] (note, 2026-02-20)');
  });
});
