import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

/**
 * A model that goes silent (a runner that never loads, a wedged GPU) must not hold the user's
 * sandbox, nor the request, for ever: OLLAMA_FIRST_TOKEN_TIMEOUT_MS and OLLAMA_IDLE_TIMEOUT_MS.
 * One sandbox (SANDBOX_MAX=1), so a lease that was not given back would refuse the next chat.
 */
describe.each(dbTargets())('a model that goes silent (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    fake = await startFakeOllama({ tokens: ['It', ' was', ' normal', ' [1].'] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      SANDBOX_MAX: '1',
      SANDBOX_ACQUIRE_TIMEOUT_MS: '5000',
      OLLAMA_FIRST_TOKEN_TIMEOUT_MS: '2000',
      OLLAMA_IDLE_TIMEOUT_MS: '300',
    });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('answers 503 ai_timeout when no first token comes in time, saves nothing, and gives the sandbox back', async () => {
    const user = await signUp(sut.app);
    fake.options.tokenDelayMs = 20_000;
    const cut = fake.nextAbort();
    const r = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'was my echo normal?' } });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBeDefined();
    expect(r.json().error).toMatchObject({ code: 'ai_timeout', message: expect.stringMatching(/did not answer within 2 s/) });
    await cut;
    expect((await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats).toEqual([]);

    fake.options.tokenDelayMs = 0;
    const again = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'was my echo normal?' } });
    expect(again.statusCode).toBe(200);
    expect(parseSse(again.body).at(-1)!.event).toBe('done');
  });

  it('ends the stream with an ai_timeout event when the model stops between tokens, keeping what it said as stopped', async () => {
    const user = await signUp(sut.app);
    // The first token comes well within its deadline, the next one far past the idle one.
    fake.options.tokenDelayMs = 1200;
    const cut = fake.nextAbort();
    const r = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'was my echo normal?' } });
    fake.options.tokenDelayMs = 0;
    expect(r.statusCode).toBe(200);
    const events = parseSse(r.body);
    expect(events.map((e) => e.event)).toEqual(['sources', 'token', 'error']);
    expect(events[2]!.data).toMatchObject({ code: 'ai_timeout' });
    await cut;
    const [chat] = (await inject({ method: 'GET', url: '/api/chats', headers: user.headers })).json().chats;
    const thread = (await inject({ method: 'GET', url: `/api/chats/${chat.id}`, headers: user.headers })).json();
    expect(thread.messages[1]).toMatchObject({ role: 'assistant', text: 'It', stopped: true });
  });
});
