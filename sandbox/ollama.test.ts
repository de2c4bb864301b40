import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { startStuckOllama } from '../test-support/sandbox/stuck-ollama.js';
import { waitFor } from '../test-support/sandbox/wait.js';
import { ANSWER_TOKENS, ollamaHealthy, preloadModel, streamChat, type ChatDone } from './ollama.js';
import { embedTexts } from './embed.js';
import { ModelTimeoutError, NoModelError } from './errors.js';

const fakes: Array<Pick<FakeOllama, 'close'>> = [];
async function fake(opts: Parameters<typeof startFakeOllama>[0] = {}) {
  const f = await startFakeOllama(opts);
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function stuckOllama() {
  const s = await startStuckOllama();
  fakes.push(s);
  return s;
}

// Bounds what a test waits without the deadlines, so a missing one fails rather than hangs.
const giveUp = () => AbortSignal.timeout(10_000);

const messages = [
  { role: 'system' as const, content: 'Answer only from the sources.' },
  { role: 'user' as const, content: 'What was my blood pressure in March?' },
];

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const t of it) out.push(t);
  return out;
}

describe('streamChat against the Ollama stand-in', () => {
  it('streams tokens in order and sends num_ctx and the prompt on every request', async () => {
    const f = await fake({ tokens: ['a', 'b', 'c', 'd'] });
    let done: ChatDone | undefined;
    const tokens = await collect(streamChat({ baseUrl: f.url, model: 'llama3.1:8b', messages, numCtx: 8192, onDone: (d) => (done = d) }));
    expect(tokens).toEqual(['a', 'b', 'c', 'd']);
    await collect(streamChat({ baseUrl: f.url, model: 'llama3.1:8b', messages, numCtx: 4096 }));
    const chats = f.requests.filter((r) => r.path === '/api/chat');
    expect(chats).toHaveLength(2);
    expect(chats.map((r) => (r.body as { options: { num_ctx: number } }).options.num_ctx)).toEqual([8192, 4096]);
    for (const r of chats) {
      const body = r.body as { model: string; stream: boolean; messages: typeof messages };
      expect(body).toMatchObject({ model: 'llama3.1:8b', stream: true, messages });
    }
    expect(done).toMatchObject({ doneReason: 'stop', evalCount: 4 });
  });

  it('abort stops generation: the server sees the connection close', async () => {
    const f = await fake({ tokens: Array.from({ length: 200 }, (_, i) => `t${i} `), tokenDelayMs: 10 });
    const ac = new AbortController();
    const got: string[] = [];
    const aborted = f.nextAbort();
    await expect(
      (async () => {
        for await (const t of streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048, signal: ac.signal })) {
          got.push(t);
          if (got.length === 3) ac.abort(new Error('user cancelled'));
        }
      })(),
    ).rejects.toThrow('user cancelled');
    await aborted;
    expect(f.abortedStreams).toBe(1);
    expect(f.completedStreams).toBe(0);
    expect(got.length).toBeLessThan(10);
  });

  it('leaving the loop early also closes the connection', async () => {
    const f = await fake({ tokens: Array.from({ length: 200 }, (_, i) => `t${i}`), tokenDelayMs: 10 });
    const aborted = f.nextAbort();
    for await (const t of streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048 })) {
      if (t === 't1') break;
    }
    await aborted;
    expect(f.abortedStreams).toBe(1);
  });

  it('an already-aborted signal sends nothing', async () => {
    const f = await fake();
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(collect(streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048, signal: ac.signal }))).rejects.toThrow('gone');
    expect(f.requests).toHaveLength(0);
  });

  it('surfaces Ollama errors, before and during the stream', async () => {
    const f = await fake({ mode: 'fail' });
    await expect(collect(streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048 }))).rejects.toThrow(/unexpectedly stopped/);
    f.options.mode = 'fail-midstream';
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const t of streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048 })) got.push(t);
      })(),
    ).rejects.toThrow(/error was encountered/);
    expect(got).toHaveLength(2);
  });

  it('ollamaHealthy and preloadModel', async () => {
    const f = await fake();
    expect(await ollamaHealthy(f.url)).toBe(true);
    await preloadModel(f.url, 'llama3.1:8b', { numCtx: 4096 });
    expect(f.requests.at(-1)).toMatchObject({ path: '/api/generate', body: { model: 'llama3.1:8b', keep_alive: -1 } });
    await f.close();
    fakes.pop();
    expect(await ollamaHealthy(f.url, 300)).toBe(false);
  });

  it('the stand-in speaks Ollama NDJSON: one object per line, final record with stats', async () => {
    const f = await fake({ tokens: ['x', 'y'] });
    const res = await fetch(`${f.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'm', messages }) });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ model: 'm', message: { role: 'assistant', content: 'x' }, done: false });
    expect(typeof lines[0]!.created_at).toBe('string');
    expect(lines[2]).toMatchObject({ done: true, done_reason: 'stop', eval_count: 2, message: { content: '' } });
    for (const k of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_duration']) {
      expect(typeof lines[2]![k]).toBe('number');
    }
    const tags = (await (await fetch(`${f.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models[0]!.name).toBe('llama3.1:8b');
  });
});

describe('a model that goes silent', () => {
  it('cuts the request when no first token comes within the deadline', async () => {
    const stuck = await stuckOllama();
    const deadlines = { firstTokenMs: 200, idleMs: 60_000 };
    const err = await collect(streamChat({ baseUrl: stuck.url, model: 'm', messages, numCtx: 2048, deadlines, signal: giveUp() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTimeoutError);
    expect(err).toMatchObject({ code: 'ai_timeout', phase: 'first', timeoutMs: 200 });
    await waitFor(() => stuck.hungUp.includes('/api/chat'), 5000, 'the request cut');
  });

  it('cuts an answer that stops between tokens, after the tokens it sent', async () => {
    const f = await fake({ tokens: ['a', 'b', 'c'], tokenDelayMs: 1000 });
    const aborted = f.nextAbort();
    const got: string[] = [];
    const deadlines = { firstTokenMs: 30_000, idleMs: 200 };
    const err = await (async () => {
      for await (const t of streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048, deadlines, signal: giveUp() })) got.push(t);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTimeoutError);
    expect(err).toMatchObject({ phase: 'idle', timeoutMs: 200 });
    expect(got).toEqual(['a']);
    await aborted;
    expect(f.completedStreams).toBe(0);
  });

  it('counts only the model’s silence, not the time the consumer holds a token', async () => {
    const f = await fake({ tokens: ['a', 'b'] });
    const got: string[] = [];
    for await (const t of streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 2048, deadlines: { firstTokenMs: 30_000, idleMs: 500 } })) {
      got.push(t);
      await new Promise((r) => setTimeout(r, 1500));
    }
    expect(got).toEqual(['a', 'b']);
  });

  it('bounds an embedding request by the first-token deadline', async () => {
    const stuck = await stuckOllama();
    const err = await embedTexts(stuck.url, 'nomic-embed-text', ['when was my last checkup?'], giveUp(), 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTimeoutError);
    expect(err).toMatchObject({ phase: 'first', timeoutMs: 200 });
    await waitFor(() => stuck.hungUp.includes('/api/embed'), 5000, 'the request cut');
  });
});

describe('what the real Ollama needs to be sent (issue 13)', () => {
  type Body = { options: Record<string, unknown>; think?: unknown };
  const bodyOf = (f: FakeOllama, path: string) => f.requests.filter((r) => r.path === path).map((r) => r.body as Body);

  it('preloads with exactly the options of every chat, so the model loads once', async () => {
    const f = await fake();
    await preloadModel(f.url, 'llama3.1:8b', { numCtx: 8192 });
    await collect(streamChat({ baseUrl: f.url, model: 'llama3.1:8b', messages, numCtx: 8192 }));
    await collect(streamChat({ baseUrl: f.url, model: 'llama3.1:8b', messages, numCtx: 8192 }));
    const [preload] = bodyOf(f, '/api/generate');
    const chats = bodyOf(f, '/api/chat');
    expect(preload!.options).toEqual({ num_ctx: 8192, num_predict: ANSWER_TOKENS });
    for (const c of chats) expect(c.options).toEqual(preload!.options);
    expect(f.loads).toEqual([{ model: 'llama3.1:8b', numCtx: 8192 }]);
  });

  it('caps the answer at the reserve (num_predict) and reports a cut-off answer as length', async () => {
    const f = await fake({ tokens: Array.from({ length: 50 }, (_, i) => `w${i} `) });
    let done: ChatDone | undefined;
    const tokens = await collect(streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 4096, numPredict: 20, onDone: (d) => (done = d) }));
    expect(bodyOf(f, '/api/chat')[0]!.options.num_predict).toBe(20);
    expect(tokens).toHaveLength(20);
    expect(done?.doneReason).toBe('length');
    await collect(streamChat({ baseUrl: f.url, model: 'm', messages, numCtx: 4096 }));
    expect(bodyOf(f, '/api/chat')[1]!.options.num_predict).toBe(ANSWER_TOKENS);
  });

  it('sends think: false, so a thinking model answers in content instead of going silent', async () => {
    const f = await fake({ tokens: ['It', ' was', ' normal'], thinkingModels: ['qwen3:8b'] });
    // What the client gets from such a model when think is left unset: nothing to show.
    const raw = await fetch(`${f.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'qwen3:8b', messages, stream: false }) });
    expect(((await raw.json()) as { message: { content: string } }).message.content).toBe('');
    const tokens = await collect(streamChat({ baseUrl: f.url, model: 'qwen3:8b', messages, numCtx: 4096 }));
    expect(tokens.join('')).toBe('It was normal');
    expect(bodyOf(f, '/api/chat').at(-1)!.think).toBe(false);
    await preloadModel(f.url, 'qwen3:8b', { numCtx: 4096 });
    expect(bodyOf(f, '/api/generate').at(-1)!.think).toBe(false);
  });

  it('a model that is not pulled fails the preload with NoModelError, in plain words', async () => {
    const f = await fake({ models: ['llama3.1:8b'] });
    const err = await preloadModel(f.url, 'qwen2.5:7b', { numCtx: 4096 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoModelError);
    expect((err as NoModelError).code).toBe('no_model');
    expect((err as Error).message).toMatch(/^No model pulled: qwen2\.5:7b .*npm run models -- pull qwen2\.5:7b/);
    await preloadModel(f.url, 'llama3.1:8b', { numCtx: 4096 });
  });
});
