import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmartServer, type SmartServer } from '../../test-support/integrations/epic/smart-server.js';
import { buildZip } from '../../test-support/integrations/fitbit/archive-writer.js';
import { startFakeOllama, type FakeOllama } from '../../test-support/sandbox/fake-ollama.js';
import { cookieFrom, dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { pngHeader } from '../../test-support/server/extraction-fixtures.js';
import { parseProm, sample, type PromSample } from '../../test-support/server/prom.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PUBLIC = 'http://localhost:8080';
const EPIC_ID = 'cv-epic-client';
const EPIC_SECRET = `esecret-${randomBytes(8).toString('hex')}`;
const STEPS_CSV = 'timestamp,steps,data source\n2024-03-10T04:30:00Z,40,Charge 6\n2024-03-10T05:30:00Z,10,Charge 6\n2024-03-11T05:30:00Z,12,Charge 6\n';

/**
 * `/metrics` after one chat (Ollama stand-in), one Fitbit archive import and one Epic sync
 * (a SMART on FHIR server speaking the real protocol): every series the dashboard and alerts
 * use is there with values that make sense, and no label carries a user's data.
 */
describe.each(dbTargets())('/metrics after a chat, an import and a sync (%s)', (target) => {
  let fake: FakeOllama;
  let smart: SmartServer;
  let sut: TestServer;
  let samples: PromSample[];
  let text: string;
  const titleCanary = `Titlecanary${randomBytes(4).toString('hex')}`;
  let user: Awaited<ReturnType<typeof signUp>>;
  const inject = (o: InjectOptions) => sut.app.inject(o);

  beforeAll(async () => {
    fake = await startFakeOllama({ tokens: ['The', ' echo', ' was', ' normal', ' [1].'], tokenDelayMs: 20 });
    smart = await startSmartServer({ clients: [{ clientId: EPIC_ID, clientSecret: EPIC_SECRET, redirectUris: [`${PUBLIC}/api/integrations/epic/callback`] }] });
    sut = await startTestServer(target, {
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      OLLAMA_NUM_CTX: '4096',
      OLLAMA_MODEL: 'test-model',
      PUBLIC_URL: PUBLIC,
      ALLOW_HTTP_LOOPBACK: '1',
      EPIC_CLIENT_ID: EPIC_ID,
      EPIC_CLIENT_SECRET: EPIC_SECRET,
      EPIC_FHIR_BASE_URLS: smart.fhirBase,
    });
    user = await signUp(sut.app);

    // A chat with a source to cite.
    await inject({
      method: 'POST',
      url: '/api/items',
      headers: user.headers,
      payload: { title: `${titleCanary} cardiology`, text: 'The cardiologist reviewed the echo: normal.' },
    });
    const chat = await inject({
      method: 'POST',
      url: '/api/chat',
      headers: user.headers,
      payload: { message: 'What did the cardiologist say about the echo?' },
    });
    expect(chat.statusCode).toBe(200);
    expect(chat.body).toContain('event: done');

    // An import job.
    const mp = multipart(
      {
        name: 'takeout.zip',
        type: 'application/zip',
        data: buildZip([{ name: 'Takeout/Fitbit/Physical Activity_GoogleData/steps_2024-03-01.csv', data: STEPS_CSV }]),
      },
      { timezone: 'UTC' },
      user.headers,
    );
    const started = await inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(started.statusCode, started.body).toBe(202);
    for (let i = 0; ; i++) {
      const job = (await inject({ method: 'GET', url: `/api/jobs/${started.json().jobId}`, headers: user.headers })).json() as { status: string };
      if (job.status === 'done') break;
      if (job.status === 'failed' || i > 600) throw new Error(`import ended ${job.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    // A sync: connect Epic through the real redirects; the first sync starts on connect.
    const start = await inject({ method: 'GET', url: `/api/integrations/epic/connect?endpoint=${encodeURIComponent(smart.fhirBase)}`, headers: user.headers });
    expect(start.statusCode).toBe(302);
    const flowCookie = (Array.isArray(start.headers['set-cookie']) ? start.headers['set-cookie'] : [start.headers['set-cookie']!])
      .map((c) => c.split(';')[0])
      .join('; ');
    const authorize = await fetch(start.headers.location as string, { redirect: 'manual' });
    const cb = new URL(authorize.headers.get('location')!);
    const done = await inject({ method: 'GET', url: `${cb.pathname}${cb.search}`, headers: { cookie: flowCookie } });
    expect(done.statusCode).toBe(302);
    await sut.app.integrations!.whenIdle();

    const res = await inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    text = res.body;
    samples = parseProm(text);
  });
  afterAll(async () => {
    await sut?.dispose();
    await fake?.close();
    await smart?.close();
  });

  const value = (name: string, labels: Record<string, string> = {}) => {
    const v = sample(samples, name, labels);
    expect(v, `${name} ${JSON.stringify(labels)}`).toBeDefined();
    return v!;
  };

  it('measures the chat: time to first token and speed by model, retrieval, sources, prompt budget, lease wait', () => {
    expect(value('cv_chat_time_to_first_token_seconds_count', { model: 'test-model' })).toBe(1);
    const ttft = value('cv_chat_time_to_first_token_seconds_sum', { model: 'test-model' });
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThan(60);
    expect(value('cv_chat_tokens_per_second_count', { model: 'test-model' })).toBe(1);
    // Five tokens 20 ms apart: tens of tokens a second, not thousands.
    const tps = value('cv_chat_tokens_per_second_sum', { model: 'test-model' });
    expect(tps).toBeGreaterThan(1);
    expect(tps).toBeLessThan(1000);
    expect(value('cv_chat_answers_total', { model: 'test-model', outcome: 'done' })).toBe(1);
    expect(value('cv_chat_retrieval_duration_seconds_count')).toBe(1);
    expect(value('cv_chat_retrieval_duration_seconds_sum')).toBeGreaterThan(0);
    expect(value('cv_chat_sources_per_answer_sum', { stage: 'found' })).toBeGreaterThanOrEqual(1);
    expect(value('cv_chat_sources_per_answer_sum', { stage: 'used' })).toBeGreaterThanOrEqual(1);
    expect(value('cv_chat_prompt_tokens_sum')).toBeGreaterThan(50);
    const ratio = value('cv_chat_prompt_budget_ratio_sum');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);
    expect(value('cv_sandbox_lease_wait_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(value('cv_sandbox_live')).toBeGreaterThanOrEqual(0);
    expect(value('cv_sandbox_starts')).toBeGreaterThanOrEqual(1);
    expect(value('cv_sandbox_queue_depth')).toBe(0);
  });

  it('counts import and sync jobs by kind and outcome, with duration, records per second and queue wait', () => {
    for (const kind of ['fitbit', 'sync_epic']) {
      expect(value('cv_jobs_total', { kind, outcome: 'done' }), kind).toBe(1);
      expect(value('cv_job_duration_seconds_count', { kind, outcome: 'done' })).toBe(1);
      const seconds = value('cv_job_duration_seconds_sum', { kind, outcome: 'done' });
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(120);
      expect(value('cv_job_records_total', { kind })).toBeGreaterThan(0);
      expect(value('cv_job_records_per_second_count', { kind })).toBe(1);
      expect(value('cv_job_records_per_second_sum', { kind })).toBeGreaterThan(0);
    }
    expect(value('cv_job_queue_wait_seconds_count', { kind: 'fitbit' })).toBe(1);
    expect(value('cv_job_queue_wait_seconds_sum', { kind: 'fitbit' })).toBeGreaterThanOrEqual(0);
    expect(value('cv_job_queue_depth', { state: 'queued' })).toBe(0);
    expect(value('cv_job_queue_depth', { state: 'running' })).toBe(0);
  });

  it('times database queries by statement family and reports the pool', () => {
    const families = new Set(samples.filter((s) => s.name === 'cv_db_query_duration_seconds_count').map((s) => s.labels.family!));
    expect([...families]).toEqual(
      expect.arrayContaining(['insert vault_items', 'select vault_items', 'select sessions', 'insert jobs', 'update jobs', 'insert chat_messages']),
    );
    for (const f of families) expect(f).toMatch(/^[a-z]+( [a-z_]+)?$/);
    expect(value('cv_db_pool_size')).toBe(target === 'pglite' ? 1 : 10);
    expect(value('cv_db_pool_in_use')).toBeGreaterThanOrEqual(0);
    expect(value('cv_db_pool_in_use')).toBeLessThanOrEqual(value('cv_db_pool_size'));
    expect(value('cv_db_pool_waiting')).toBe(0);
    expect(value('cv_db_query_errors_total', { family: 'select sessions' })).toBe(0);
    expect(value('cv_database_size_bytes', { engine: target })).toBeGreaterThan(1_000_000);
    expect(value('cv_data_disk_free_bytes')).toBeGreaterThan(0);
    expect(value('cv_data_disk_size_bytes')).toBeGreaterThanOrEqual(value('cv_data_disk_free_bytes'));
  });

  it('reports event-loop delay, backlogs and the backup gauge, and HTTP latency by route', () => {
    const p99 = value('cv_event_loop_delay_seconds', { quantile: '0.99' });
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThan(10);
    expect(value('cv_backlog_items', { queue: 'embedding' })).toBe(0);
    expect(value('cv_backlog_items', { queue: 'ocr' })).toBe(0);
    expect(value('cv_backup_last_success_timestamp_seconds')).toBe(0);
    expect(value('cv_http_request_duration_seconds_count', { method: 'POST', route: '/api/items', status_code: '201' })).toBe(1);
  });

  it('has every metric the Grafana dashboard and the alert rules query', () => {
    const dir = new URL('../../deploy/observability/', import.meta.url);
    const dashboard = readFileSync(new URL('grafana/dashboards/context-vault.json', dir), 'utf8');
    const rules = readFileSync(new URL('alerts.yml', dir), 'utf8');
    const queried = new Set([...`${dashboard}\n${rules}`.matchAll(/\bcv_[a-z0-9_]+\b/g)].map((m) => m[0]));
    expect(queried.size).toBeGreaterThan(30);
    const exposed = new Set(samples.map((s) => s.name));
    const missing = [...queried].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it('never puts a user id, email or title in a label', () => {
    const labels = samples.flatMap((s) => Object.values(s.labels)).join('\n');
    for (const secret of [user.user.id, user.email, titleCanary, 'cardiologist']) expect(labels).not.toContain(secret);
    expect(text).not.toContain(user.user.id);
  });

  // Last: it stops and restarts the server. PGlite is single-process, so `npm run backup` runs with
  // the server stopped (as documented), and records its time where the server reads it.
  it('reads the last backup from `npm run backup`, and the backlogs from the embedding and extraction services', { timeout: 300_000 }, async () => {
    await sut.stop();
    const work = await mkdtemp(path.join(tmpdir(), 'cv-metrics-backup-'));
    try {
      const keyFile = path.join(work, 'key.txt');
      await run('age-keygen', ['-o', keyFile]);
      const recipient = (await run('age-keygen', ['-y', keyFile])).stdout.trim();
      const before = Math.floor(Date.now() / 1000);
      const backup = await run(process.execPath, ['--import', 'tsx', 'server/cli/backup.ts', '--to', path.join(work, 'backups'), '--recipient', recipient], {
        cwd: ROOT,
        env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...sut.env },
      });
      expect(backup.stderr).toMatch(/^Backup context-vault-/);
      const after = Math.ceil(Date.now() / 1000);
      await sut.restart();

      const scrape = async () => parseProm((await inject({ method: 'GET', url: '/metrics' })).body);
      const first = await scrape();
      const at = sample(first, 'cv_backup_last_success_timestamp_seconds')!;
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);

      // The embedding model goes missing: what is written now waits for vectors.
      fake.options.models = ['test-model'];
      const headers = {
        cookie: cookieFrom(
          (await inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, passphrase: user.passphrase } })).headers['set-cookie'],
        ),
      };
      const add = async (text: string) =>
        expect((await inject({ method: 'POST', url: '/api/items', headers, payload: { title: 'Waiting for vectors', text } })).statusCode).toBe(201);
      await add('first');
      await sut.app.embeddings!.settled(user.user.id);
      const waiting = sample(await scrape(), 'cv_backlog_items', { queue: 'embedding' })!;
      expect(waiting).toBeGreaterThanOrEqual(1);
      await add('second');
      await sut.app.embeddings!.settled(user.user.id);
      expect(sample(await scrape(), 'cv_backlog_items', { queue: 'embedding' })).toBe(waiting + 1);

      // A scan queues its reading (OCR): the backlog counts it while the job is queued or running.
      // Too large to scan: read (and refused) at once, by a job all the same.
      const file = multipart({ name: 'scan.png', type: 'image/png', data: pngHeader(80_000, 80_000) }, {}, headers);
      const uploaded = await inject({ method: 'POST', url: '/api/files', headers: file.headers, payload: file.payload });
      expect(uploaded.statusCode, uploaded.body).toBe(201);
      const itemId = (uploaded.json() as { id: string }).id;
      const queued = sample(await scrape(), 'cv_backlog_items', { queue: 'ocr' })!;
      expect([0, 1]).toContain(queued);
      for (let i = 0; ; i++) {
        const item = (await inject({ method: 'GET', url: `/api/items/${itemId}`, headers })).json() as { extraction?: { status: string } };
        if (item.extraction?.status !== 'pending') break;
        if (i > 1200) throw new Error('the scan was never read');
        await new Promise((r) => setTimeout(r, 50));
      }
      // Its job row ends just after the item's status is written.
      for (let i = 0; sample(await scrape(), 'cv_backlog_items', { queue: 'ocr' }) !== 0; i++) {
        if (i > 200) throw new Error('the OCR backlog never emptied');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      fake.options.models = undefined;
      await rm(work, { recursive: true, force: true });
    }
  });
});
