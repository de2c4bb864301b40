import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama, type FakeRegistryModel } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { parseSse } from '../../test-support/server/sse.js';

const MiB = 1024 * 1024;
// Shapes of the real models (their GGUF headers), sizes in bytes as the registry serves them.
const REGISTRY: Record<string, FakeRegistryModel> = {
  'qwen2.5:0.5b': {
    size: 397_807_936,
    family: 'qwen2',
    quantization: 'Q4_K_M',
    contextLength: 32768,
    parameterSize: '494.03M',
    blockCount: 24,
    embeddingLength: 896,
    headCount: 14,
    headCountKv: 2,
  },
  'llama3.2:1b': {
    size: 1_321_082_688,
    family: 'llama',
    quantization: 'Q8_0',
    contextLength: 131072,
    parameterSize: '1.2B',
    blockCount: 16,
    embeddingLength: 2048,
    headCount: 32,
    headCountKv: 8,
  },
  'nomic-embed-text:latest': { size: 274_290_656, family: 'nomic-bert', quantization: 'F16', contextLength: 2048, poolingType: 1 },
};

describe.each(dbTargets())('Settings -> Models: list, pull, delete, defaults (%s)', (target) => {
  let fake: FakeOllama;
  let sut: TestServer;
  let modelsDir: string;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);
  const list = async (headers: Record<string, string>) => (await inject({ method: 'GET', url: '/api/models', headers })).json();
  const pull = (headers: Record<string, string>, name: string) => inject({ method: 'POST', url: '/api/models/pull', headers, payload: { name } });

  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'cv-models-int-'));
    fake = await startFakeOllama({ modelsDir, registry: REGISTRY, tokens: ['Fine', '.'] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_MODEL: 'qwen2.5:0.5b',
      OLLAMA_NUM_CTX: '4096',
      // 1 GiB: qwen2.5:0.5b fits, llama3.2:1b (1.26 GiB of weights) does not.
      SANDBOX_MEMORY_MB: '1024',
    });
    // The first account of an instance is its admin.
    admin = await signUp(sut.app);
    other = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it("pulls a model with progress streamed as server-sent events, then lists it with Ollama's metadata", async () => {
    expect(await list(admin.headers)).toMatchObject({ models: [], defaults: { chat: 'qwen2.5:0.5b', embed: 'nomic-embed-text' }, canManage: true });
    const res = await pull(admin.headers, 'qwen2.5:0.5b');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(res.body);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    expect(progress.length).toBeGreaterThan(3);
    const sized = progress.filter((p) => p.total > 0);
    expect(sized.map((p) => p.completed)).toEqual([...sized.map((p) => p.completed)].sort((a, b) => a - b));
    expect(sized.some((p) => p.completed < p.total)).toBe(true);
    expect(sized.at(-1)!.completed).toBe(sized.at(-1)!.total);
    expect(sized.at(-1)!.total).toBeGreaterThanOrEqual(REGISTRY['qwen2.5:0.5b']!.size);
    expect(events.at(-1)).toEqual({ event: 'done', data: { name: 'qwen2.5:0.5b' } });
    // It went through Ollama's own pull API.
    expect(fake.requests.filter((r) => r.path === '/api/pull')).toHaveLength(1);

    const listed = await list(other.headers);
    expect(listed.canManage).toBe(false);
    expect(listed.models).toEqual([
      {
        name: 'qwen2.5:0.5b',
        size: expect.any(Number),
        family: 'qwen2',
        quantization: 'Q4_K_M',
        contextLength: 32768,
        fits: true,
        requiredBytes: expect.any(Number),
        kind: 'chat',
      },
    ]);
    expect(listed.models[0].size).toBeGreaterThan(REGISTRY['qwen2.5:0.5b']!.size);
    // Weights plus an f16 KV cache of 4096 tokens: 2 x 24 layers x 4096 x (896 / 14 x 2) x 2 bytes.
    expect(listed.models[0].requiredBytes).toBe(listed.models[0].size + 2 * 24 * 4096 * 128 * 2);
  });

  it('says a model larger than SANDBOX_MEMORY_MB will not fit', async () => {
    expect(parseSse((await pull(admin.headers, 'llama3.2:1b')).body).at(-1)!.event).toBe('done');
    const big = (await list(admin.headers)).models.find((m: { name: string }) => m.name === 'llama3.2:1b');
    expect(big).toMatchObject({ family: 'llama', quantization: 'Q8_0', contextLength: 131072, fits: false });
    expect(big.requiredBytes).toBeGreaterThan(1024 * MiB);
  });

  it('a name the registry does not have ends the stream with an error event; bad and cloud names are refused up front', async () => {
    const events = parseSse((await pull(admin.headers, 'no-such-model:7b')).body);
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'pull_failed', message: expect.stringMatching(/file does not exist/) } });
    const bad = await pull(admin.headers, '../../etc/passwd');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('bad_model_name');
    const cloud = await pull(admin.headers, 'gpt-oss:120b-cloud');
    expect(cloud.statusCode).toBe(400);
    expect(cloud.json().error.code).toBe('cloud_model');
    expect((await list(admin.headers)).models.map((m: { name: string }) => m.name)).toEqual(['llama3.2:1b', 'qwen2.5:0.5b']);
  });

  it("the default chat model an admin picks reaches the sandbox request; a chat's own pick wins over it", async () => {
    const set = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'llama3.2:1b' } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ chat: 'llama3.2:1b', embed: 'nomic-embed-text' });
    expect((await list(other.headers)).defaults.chat).toBe('llama3.2:1b');

    const before = fake.requests.length;
    const chat = await inject({ method: 'POST', url: '/api/chat', headers: other.headers, payload: { message: 'How am I?' } });
    expect(chat.statusCode).toBe(200);
    const sent = fake.requests.slice(before).filter((r) => r.path === '/api/chat');
    expect(sent.map((r) => (r.body as { model: string }).model)).toEqual(['llama3.2:1b']);
    expect(parseSse(chat.body)[0]!.data.context.model).toBe('llama3.2:1b');

    const picked = await inject({ method: 'POST', url: '/api/chat', headers: other.headers, payload: { message: 'And now?', model: 'qwen2.5:0.5b' } });
    const { chatId } = parseSse(picked.body).at(-1)!.data;
    expect(fake.requests.filter((r) => r.path === '/api/chat').at(-1)!.body).toMatchObject({ model: 'qwen2.5:0.5b' });
    expect((await inject({ method: 'GET', url: `/api/chats/${chatId}`, headers: other.headers })).json().model).toBe('qwen2.5:0.5b');

    // A model that is not in the directory cannot become a default.
    const missing = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { embed: 'mxbai-embed-large:latest' } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.code).toBe('model_not_found');
  });

  it('tells an embedding model from a chat model, and keeps each out of the other’s place', async () => {
    expect(parseSse((await pull(admin.headers, 'nomic-embed-text')).body).at(-1)!.event).toBe('done');
    const kinds = Object.fromEntries((await list(admin.headers)).models.map((m: { name: string; kind: string }) => [m.name, m.kind]));
    expect(kinds).toEqual({ 'llama3.2:1b': 'chat', 'nomic-embed-text:latest': 'embedding', 'qwen2.5:0.5b': 'chat' });
    // What Ollama itself says of it (server/images.go Capabilities: a pooling type means embedding).
    const shown = await fetch(`${fake.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text' }) });
    expect(((await shown.json()) as { capabilities: string[] }).capabilities).toEqual(['embedding']);

    const asChat = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'nomic-embed-text:latest' } });
    expect(asChat.statusCode).toBe(422);
    expect(asChat.json().error).toEqual({ code: 'wrong_model_kind', message: expect.stringMatching(/embedding model: it cannot answer chats/) });
    const asEmbed = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { embed: 'qwen2.5:0.5b' } });
    expect(asEmbed.statusCode).toBe(422);
    expect(asEmbed.json().error.code).toBe('wrong_model_kind');
    expect((await list(admin.headers)).defaults).toEqual({ chat: 'llama3.2:1b', embed: 'nomic-embed-text' });
    const embed = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { embed: 'nomic-embed-text:latest' } });
    expect(embed.statusCode).toBe(200);

    // A chat that names the embedding model: Ollama's 400 becomes a sentence, not an AI error.
    const chat = await inject({ method: 'POST', url: '/api/chat', headers: other.headers, payload: { message: 'Hello?', model: 'nomic-embed-text:latest' } });
    expect(chat.statusCode).toBe(422);
    expect(chat.json().error.code).toBe('wrong_model_kind');
    expect(sut.logs()).not.toMatch(/"level":50/);
  });

  it('finds a model named without a tag under `:latest`, as Ollama does, for the defaults and delete', async () => {
    // nomic-embed-text:latest is installed (the test before), and the embedding default.
    const short = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { embed: 'nomic-embed-text' } });
    expect(short.statusCode, short.body).toBe(200);
    // Kept as written: the embedding model's name is part of every stored vector's model check.
    expect(short.json()).toEqual({ chat: 'llama3.2:1b', embed: 'nomic-embed-text' });
    const asChat = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'nomic-embed-text' } });
    expect(asChat.json().error.code).toBe('wrong_model_kind');
    // Only `latest` is implied: qwen2.5 is qwen2.5:latest, which is not here.
    const other = await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'qwen2.5' } });
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('model_not_found');
    // The default under either name is the default.
    for (const name of ['nomic-embed-text:latest', 'nomic-embed-text']) {
      const refused = await inject({ method: 'DELETE', url: `/api/models/${name}`, headers: admin.headers });
      expect(refused.statusCode, name).toBe(409);
      expect(refused.json().error.code).toBe('model_is_default');
    }
    expect(fake.requests.filter((r) => r.path === '/api/delete')).toEqual([]);
    expect((await list(admin.headers)).models.map((m: { name: string }) => m.name)).toContain('nomic-embed-text:latest');
  });

  it('refuses pull, delete and default changes to an account that is not an admin (403 forbidden)', async () => {
    for (const res of [
      await pull(other.headers, 'nomic-embed-text'),
      await inject({ method: 'DELETE', url: '/api/models/qwen2.5:0.5b', headers: other.headers }),
      await inject({ method: 'PUT', url: '/api/models/defaults', headers: other.headers, payload: { chat: 'qwen2.5:0.5b' } }),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
    expect(fake.requests.filter((r) => r.path === '/api/pull' && (r.body as { model: string }).model === 'nomic-embed-text')).toHaveLength(0);
  });

  it("refuses API tokens, even an admin's with every scope, except for the listing", async () => {
    const created = await inject({
      method: 'POST',
      url: '/api/tokens',
      headers: admin.headers,
      payload: { name: 'script', scopes: ['read', 'write', 'chat'] },
    });
    const bearer = { authorization: `Bearer ${created.json().token}` };
    for (const res of [
      await pull(bearer, 'nomic-embed-text'),
      await inject({ method: 'DELETE', url: '/api/models/qwen2.5:0.5b', headers: bearer }),
      await inject({ method: 'PUT', url: '/api/models/defaults', headers: bearer, payload: { chat: 'qwen2.5:0.5b' } }),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('token_not_allowed');
    }
    const listed = await inject({ method: 'GET', url: '/api/models', headers: bearer });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().canManage).toBe(false);
  });

  it("deletes a model through Ollama's delete API (204), then it is gone and a second delete is 404", async () => {
    // llama3.2:1b is the default chat model since the defaults test: not deletable until it is not.
    const refused = await inject({ method: 'DELETE', url: '/api/models/llama3.2:1b', headers: admin.headers });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('model_is_default');
    expect((await inject({ method: 'PUT', url: '/api/models/defaults', headers: admin.headers, payload: { chat: 'qwen2.5:0.5b' } })).statusCode).toBe(200);
    const del = await inject({ method: 'DELETE', url: '/api/models/llama3.2:1b', headers: admin.headers });
    expect(del.statusCode).toBe(204);
    // The ollama client names the model as `name`, which Ollama still reads (api/types.go DeleteRequest).
    expect(fake.requests.filter((r) => r.path === '/api/delete').at(-1)!.body).toEqual({ name: 'llama3.2:1b' });
    expect((await list(admin.headers)).models.map((m: { name: string }) => m.name)).toEqual(['nomic-embed-text:latest', 'qwen2.5:0.5b']);
    const again = await inject({ method: 'DELETE', url: '/api/models/llama3.2:1b', headers: admin.headers });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('not_found');
  });
});
