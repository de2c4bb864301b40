import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { ServerProcess } from '../../test-support/server/server-process.js';
import { parseSse } from '../../test-support/server/sse.js';

// Two app instances, each the real server in its own process, on one PostgreSQL database (PGlite
// is one process's): a chat answering through A is busy (409 chat_busy) through B as well.

const targets = dbTargets().filter((t) => t === 'postgres');

if (targets.length === 0) {
  describe('one turn at a time per chat across two instances', () => {
    it('needs TEST_DATABASE_URL (CI sets it, with REQUIRE_POSTGRES_TESTS=1)', () => {
      expect(process.env.REQUIRE_POSTGRES_TESTS).not.toBe('1');
    });
  });
}

for (const target of targets) {
  describe(`one turn at a time per chat across two instances (${target})`, () => {
    let dir: string;
    let dropDb: () => Promise<void>;
    let fake: FakeOllama;
    let a: ServerProcess;
    let b: ServerProcess;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'cv-chat-two-'));
      const db = await createPgDatabase();
      dropDb = db.dispose;
      fake = await startFakeOllama({ models: ['test-model'], tokens: ['Fine', '.'] });
      const env = {
        DATABASE_URL: db.url,
        DATA_DIR: dir,
        SERVER_KEY: randomBytes(32).toString('base64'),
        RATE_LIMIT_AUTH_PER_MIN: '1000',
        SANDBOX_RUNTIME: 'url',
        OLLAMA_URL: fake.url,
        OLLAMA_MODEL: 'test-model',
      };
      a = new ServerProcess('A', env);
      b = new ServerProcess('B', env);
      // A migrates the empty database first; B then finds it current.
      await a.start();
      await b.start();
    }, 240_000);

    afterAll(async () => {
      await Promise.all([a?.kill('SIGKILL'), b?.kill('SIGKILL')]);
      await fake?.close();
      await dropDb?.();
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses a follow-up and a regeneration through B while A answers the chat, and takes them once it is done', async () => {
      const email = `chat-${randomBytes(4).toString('hex')}@example.com`;
      const cookie = (await a.call('POST', '/api/auth/register', undefined, { email, passphrase: 'correct horse battery staple' })).cookie!;
      const ask = async (on: ServerProcess, url: string, body: unknown) => {
        const res = await fetch(on.url + url, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, text: await res.text() };
      };
      const first = await ask(a, '/api/chat', { message: 'first question' });
      const chatId = parseSse(first.text).at(-1)!.data.chatId as string;

      Object.assign(fake.options, { tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), tokenDelayMs: 20 });
      const streaming = await fetch(`${a.url}/api/chat`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'follow-up via A', chatId }),
      });
      const reader = streaming.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('event: token')) text += decoder.decode((await reader.read()).value, { stream: true });

      const busy = await ask(b, '/api/chat', { message: 'follow-up via B', chatId });
      expect(busy.status).toBe(409);
      expect(JSON.parse(busy.text).error.code).toBe('chat_busy');
      const regen = await ask(b, `/api/chats/${chatId}/regenerate`, {});
      expect(regen.status).toBe(409);
      expect(JSON.parse(regen.text).error.code).toBe('chat_busy');

      Object.assign(fake.options, { tokens: ['Fine', '.'], tokenDelayMs: 0 });
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
      expect(parseSse(text).at(-1)!.event).toBe('done');
      // Done on A: B takes the next turn at once.
      expect(parseSse((await ask(b, '/api/chat', { message: 'follow-up via B', chatId })).text).at(-1)!.event).toBe('done');
      const thread = await b.call<{ messages: Array<{ role: string; text: string }> }>('GET', `/api/chats/${chatId}`, cookie);
      expect(thread.body.messages.map((m) => (m.role === 'user' ? m.text : 'answer'))).toEqual([
        'first question',
        'answer',
        'follow-up via A',
        'answer',
        'follow-up via B',
        'answer',
      ]);
    });
  });
}
