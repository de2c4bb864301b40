import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from './testing/fake-ollama.js';
import { ollamaHealthy, preloadModel, streamChat, type ChatDone } from './ollama.js';

const fakes: FakeOllama[] = [];
async function fake(opts: Parameters<typeof startFakeOllama>[0] = {}) {
  const f = await startFakeOllama(opts);
  fakes.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

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
    await preloadModel(f.url, 'llama3.1:8b');
    expect(f.requests.at(-1)).toMatchObject({ path: '/api/generate', body: { model: 'llama3.1:8b', keep_alive: -1 } });
    await f.close();
    fakes.pop();
    expect(await ollamaHealthy(f.url, 300)).toBe(false);
  });

  it('the stand-in speaks Ollama NDJSON: one object per line, final record with stats', async () => {
    const f = await fake({ tokens: ['x', 'y'] });
    const res = await fetch(`${f.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'm', messages }) });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
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
