import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { sandboxesUsedUp } from '../../test-support/server/prom.js';
import { parseSse } from '../../test-support/server/sse.js';

/**
 * A chat turn is one use of the user's sandbox: the question is embedded in the sandbox that
 * then answers it. With SANDBOX_MAX_USES=1 each lease ends its sandbox, so the recycles a turn
 * adds are the leases it took. (The runtime is the `url` one: the sandbox's protocol, no
 * container; the pool and its leases are the real ones.)
 */
describe('a chat turn and its sandbox lease', () => {
  let fake: FakeOllama;
  let sut: TestServer;
  const inject = (opts: InjectOptions) => sut.app.inject(opts);
  const recycled = () => sandboxesUsedUp(sut.app);

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['llama3.1:8b', 'nomic-embed-text:latest'], tokens: ['Nothing', ' found.'] });
    sut = await startTestServer('pglite', { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, SANDBOX_MAX_USES: '1' });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('embeds the question and answers it on one lease, for a question and for its regeneration', async () => {
    const user = await signUp(sut.app);
    const paths = () => fake.requests.map((r) => r.path).filter((p) => p === '/api/embed' || p === '/api/chat');

    const before = await recycled();
    fake.requests.length = 0;
    const asked = await inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'any heart rhythm problems?' } });
    expect(asked.statusCode).toBe(200);
    const events = parseSse(asked.body);
    expect(events[0]!.data.context.retrieval).toBe('hybrid');
    const done = events.find((e) => e.event === 'done')!;
    expect(done.data.chatId).toEqual(expect.any(String));
    expect(paths()).toEqual(['/api/embed', '/api/chat']);
    expect(await recycled()).toBe(before + 1);

    fake.requests.length = 0;
    const again = await inject({ method: 'POST', url: `/api/chats/${done.data.chatId}/regenerate`, headers: user.headers, payload: {} });
    expect(again.statusCode).toBe(200);
    expect(parseSse(again.body).map((e) => e.event)).toContain('done');
    expect(paths()).toEqual(['/api/embed', '/api/chat']);
    expect(await recycled()).toBe(before + 2);
  });

  it('takes no lease for a chat that is not the user’s', async () => {
    const user = await signUp(sut.app);
    const before = await recycled();
    const missing = await inject({
      method: 'POST',
      url: '/api/chat',
      headers: user.headers,
      payload: { message: 'and then?', chatId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(missing.statusCode).toBe(404);
    expect(await recycled()).toBe(before);
  });
});
