import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { ProcessRuntime } from '../../test-support/sandbox/process-runtime.js';
import { waitFor } from '../../test-support/sandbox/wait.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseProm, sample, sandboxesUsedUp } from '../../test-support/server/prom.js';
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

describe.each(dbTargets())('a chat turn on a busy pool (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  const timeouts = async () =>
    sample(parseProm((await sut.app.inject({ method: 'GET', url: '/metrics' })).body), 'cv_sandbox_lease_wait_seconds_count', { outcome: 'timeout' }) ?? 0;

  beforeAll(async () => {
    fake = await startFakeOllama({ models: ['llama3.1:8b', 'nomic-embed-text:latest'], tokens: ['Nothing', ' found.'] });
    sut = await startTestServer(target, { SANDBOX_RUNTIME: 'url', OLLAMA_URL: fake.url, SANDBOX_MAX: '1', SANDBOX_ACQUIRE_TIMEOUT_MS: '300' });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
  });

  it('waits for a sandbox once per turn: a timeout while embedding the question is the turn’s 503 pool_timeout', async () => {
    const alice = await signUp(sut.app);
    const bob = await signUp(sut.app);
    // Alice's answer holds the only sandbox far longer than both of bob's waits would take.
    fake.options.tokenDelayMs = 1500;
    const holding = sut.app.inject({ method: 'POST', url: '/api/chat', headers: alice.headers, payload: { message: 'anything new?' } });
    await waitFor(() => fake.requests.some((r) => r.path === '/api/chat'), 10_000, "alice's answer started");

    const before = await timeouts();
    const refused = await sut.app.inject({ method: 'POST', url: '/api/chat', headers: bob.headers, payload: { message: 'any heart rhythm problems?' } });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe('pool_timeout');
    expect(await timeouts()).toBe(before + 1);
    expect((await holding).statusCode).toBe(200);
  });
});

describe.each(dbTargets())('a sandbox that died while idle (%s)', (target) => {
  let sut: TestServer;
  let runtime: ProcessRuntime;

  beforeAll(async () => {
    runtime = new ProcessRuntime({ stateDir: mkdtempSync(join(tmpdir(), 'cv-rt-')) });
    sut = await startTestServer(target, { SANDBOX_MAX: '2', SANDBOX_ACQUIRE_TIMEOUT_MS: '20000' }, { sandboxRuntime: runtime });
  }, 120_000);
  afterAll(async () => {
    await sut?.dispose();
  });

  it('is replaced before the next chat, which is answered rather than told the AI is offline', async () => {
    const user = await signUp(sut.app);
    const ask = () => sut.app.inject({ method: 'POST', url: '/api/chat', headers: user.headers, payload: { message: 'any heart rhythm problems?' } });
    expect((await ask()).statusCode).toBe(200);
    // What an OOM kill of Ollama, or `docker kill`, does to the user's idle sandbox and the warm one.
    const children = [...runtime.children.values()];
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) child.kill('SIGKILL');
    await waitFor(() => children.every((c) => c.signalCode !== null), 5000, 'sandboxes killed');

    const answered = await ask();
    expect(answered.statusCode).toBe(200);
    const events = parseSse(answered.body);
    expect(events[0]!.data.context.retrieval).toBe('hybrid');
    expect(events.at(-1)!.event).toBe('done');
  });
});
