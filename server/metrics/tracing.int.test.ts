import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../test-support/integrations/fitbit/archive-writer.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/**
 * A real OTLP/HTTP trace receiver: accepts `POST /v1/traces` with the JSON encoding the HTTP
 * exporter sends, keeps each request body as received, and answers as a collector does.
 */
async function startReceiver(): Promise<{ url: string; bodies: string[]; contentTypes: string[]; close: () => Promise<void> }> {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.push(String(req.headers['content-type']));
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, bodies, contentTypes, close: () => new Promise((r) => server.close(() => r())) };
}

const hex = () => randomBytes(5).toString('hex');

describe.each(dbTargets())('OpenTelemetry spans (%s)', (target) => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let fake: FakeOllama;
  let sut: TestServer;
  const canary = {
    email: `mailcanary${hex()}@example.com`,
    password: `passcanary${hex()} horse battery staple`,
    title: `Titlecanary${hex()}`,
    note: `notecanary${hex()}`,
    fileName: `filecanary${hex()}.txt`,
    archiveName: `archivecanary${hex()}.zip`,
    prompt: `promptcanary${hex()}`,
    answer: `answercanary${hex()}`,
    query: `querycanary${hex()}`,
    tokenName: `tokennamecanary${hex()}`,
  };
  const secrets: string[] = [];
  let spans: ExportedSpan[] = [];
  let raw = '';
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    receiver = await startReceiver();
    fake = await startFakeOllama({ tokens: ['Noted', ` ${canary.answer}`, ' [1].'] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_MODEL: 'test-model',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const user = await signUp(sut.app, canary.email, canary.password);
    secrets.push(user.cookie.split('=')[1]!, user.recoveryKey);
    await inject({ method: 'POST', url: '/api/auth/login', payload: { email: canary.email, passphrase: 'wrong passphrase canary' } });
    const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { email: canary.email, passphrase: canary.password } });
    expect(login.statusCode).toBe(200);

    const item = await inject({
      method: 'POST',
      url: '/api/items',
      headers: user.headers,
      payload: { title: canary.title, text: `${canary.note} ${canary.query} cardiology` },
    });
    expect(item.statusCode).toBe(201);
    expect((await inject({ method: 'GET', url: `/api/search?q=${canary.query}`, headers: user.headers })).statusCode).toBe(200);
    const file = multipart({ name: canary.fileName, type: 'text/plain', data: Buffer.from(`${canary.note} in a file`) }, {}, user.headers);
    expect((await inject({ method: 'POST', url: '/api/files', headers: file.headers, payload: file.payload })).statusCode).toBe(201);

    const chat = await inject({
      method: 'POST',
      url: '/api/chat',
      headers: user.headers,
      payload: { message: `What does ${canary.prompt} say about cardiology?` },
    });
    expect(chat.body).toContain(canary.answer);

    const minted = await inject({ method: 'POST', url: '/api/tokens', headers: user.headers, payload: { name: canary.tokenName, scopes: ['read'] } });
    expect(minted.statusCode).toBe(201);
    const token = (minted.json() as { token: string }).token;
    secrets.push(token);
    expect((await inject({ method: 'GET', url: '/api/items', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);

    const archive = buildZip([
      { name: 'Takeout/Fitbit/Physical Activity_GoogleData/steps_2024-03-01.csv', data: 'timestamp,steps,data source\n2024-03-10T04:30:00Z,40,Charge 6\n' },
    ]);
    const mp = multipart({ name: canary.archiveName, type: 'application/zip', data: archive }, { timezone: 'UTC' }, user.headers);
    const job = await inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(job.statusCode).toBe(202);
    for (let i = 0; ; i++) {
      const j = (await inject({ method: 'GET', url: `/api/jobs/${job.json().jobId}`, headers: user.headers })).json() as { status: string };
      if (j.status === 'done') break;
      if (j.status === 'failed' || i > 600) throw new Error(`import ended ${j.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Closing the app flushes the batch processor to the receiver.
    await sut.stop();
    raw = receiver.bodies.join('\n');
    spans = receiver.bodies.flatMap((b) =>
      (JSON.parse(b) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }> }).resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans),
      ),
    );
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
    await receiver?.close();
  });

  it('exports a span per request, retrieval stage, sandbox lease, model call, job and query family', () => {
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
    const names = new Set(spans.map((s) => s.name));
    for (const name of [
      'POST /api/auth/register',
      'POST /api/auth/login',
      'POST /api/items',
      'GET /api/search',
      'POST /api/files',
      'POST /api/chat',
      'GET /api/items',
      'POST /api/import/fitbit',
      'retrieval',
      'retrieval.lookup',
      'sandbox.lease',
      'model.chat',
      'job fitbit',
      'db select sessions',
      'db insert vault_items',
      'db select vault_items',
      'db update jobs',
    ]) {
      expect(names, name).toContain(name);
    }
    const attr = (s: ExportedSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value;
    const chatSpan = spans.find((s) => s.name === 'POST /api/chat')!;
    expect(attr(chatSpan, 'http.route')).toEqual({ stringValue: '/api/chat' });
    expect(attr(chatSpan, 'http.response.status_code')).toEqual({ intValue: 200 });
    const model = spans.find((s) => s.name === 'model.chat')!;
    expect(attr(model, 'gen_ai.request.model')).toEqual({ stringValue: 'test-model' });
    expect(attr(model, 'gen_ai.usage.output_tokens')).toEqual({ intValue: 3 });
    // The chat's stages are children of its request span, in its trace.
    expect(model.traceId).toBe(chatSpan.traceId);
    expect(model.parentSpanId).toBe(chatSpan.spanId);
    const chatTrace = new Set(spans.filter((s) => s.traceId === chatSpan.traceId).map((s) => s.name));
    for (const name of ['retrieval', 'retrieval.lookup', 'sandbox.lease', 'db insert chat_messages']) expect(chatTrace, name).toContain(name);

    // Database spans: one per query family per request (or stage), with how many queries it holds.
    const search = spans.find((s) => s.name === 'GET /api/search')!;
    const searchDb = spans.filter((s) => s.parentSpanId === search.spanId && s.name.startsWith('db '));
    expect(searchDb.length).toBeGreaterThan(0);
    expect(new Set(searchDb.map((s) => s.name)).size).toBe(searchDb.length);
    for (const s of spans.filter((s) => s.name.startsWith('db '))) {
      expect(s.name).toMatch(/^db [a-z]+( [a-z_]+)?$/);
      expect(Number(attr(s, 'cv.db.query_count')?.intValue), s.name).toBeGreaterThanOrEqual(1);
      expect(attr(s, 'cv.db.query_ms')).toBeDefined();
    }
  });

  it('never exports a title, note text, file name, email, password, prompt, answer, query string or token', () => {
    expect(raw.length).toBeGreaterThan(1000);
    for (const [what, value] of Object.entries(canary)) expect(raw, what).not.toContain(value);
    for (const s of secrets) expect(raw).not.toContain(s);
    expect(raw).not.toContain('wrong passphrase canary');
    expect(raw).not.toContain('?q=');
  });
});
