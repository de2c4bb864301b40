/**
 * Chat latency: time from the request to the first token leaving the server, for a user with
 * 100k items and 1M health samples, with a stand-in model that answers instantly. What is
 * measured is our part: retrieval over the blind index, decryption, series summaries, prompt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addSamples, emptyChunk, type DayChunk } from '../integrations/series/day-chunk.js';
import { startFakeOllama } from '../test-support/sandbox/fake-ollama.js';
import { buildApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { migrateToLatest, openDatabase } from '../server/db/index.js';
import { AuditRepository } from '../server/repositories/audit.repository.js';
import { ItemsRepository } from '../server/repositories/items.repository.js';
import { SeriesRepository } from '../server/repositories/series.repository.js';
import { SessionsRepository } from '../server/repositories/sessions.repository.js';
import { UsersRepository } from '../server/repositories/users.repository.js';
import { AuthService } from '../server/services/auth.service.js';
import { ItemsService, type NewItem } from '../server/services/items.service.js';
import { SeriesService } from '../server/services/series.service.js';
import type { BenchResult } from './types.js';

const ITEMS = Number(process.env.BENCH_CHAT_ITEMS ?? 100_000);
const SAMPLES = Number(process.env.BENCH_CHAT_SAMPLES ?? 1_000_000);
const QUESTIONS = [
  'What medications am I taking?',
  'What was my blood pressure last month?',
  'How has my heart rate been this year?',
  'What did the cardiologist say about the echo?',
  'Show my lab results from October 2026',
  'How many steps did I walk last week?',
  'What am I allergic to?',
  'When was my last flu shot?',
];
const WORDS =
  'visit review result normal follow-up clinic referral dose tablet morning evening blood pressure glucose cholesterol knee back pain sleep walking diet'.split(
    ' ',
  );

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export default async function run(): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-chat-'));
  const fake = await startFakeOllama({ tokens: ['Here', ' is', ' the', ' answer', ' [1].'] });
  const { db } = await openDatabase({ dataDir });
  try {
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    const email = 'chat-bench@example.com';
    const passphrase = 'benchmark passphrase';
    const session = (await auth.register(email, passphrase)).session.context;
    const items = new ItemsService(new ItemsRepository(db));
    const series = new SeriesService(new SeriesRepository(db));

    let t = performance.now();
    const kinds = [
      { tag: 'medication', type: 'rxnorm:313782', title: 'Acetaminophen 325 MG Oral Tablet' },
      { tag: 'laboratory', type: '718-7', title: 'Hemoglobin 13.9 g/dL' },
      { tag: 'vital-signs', type: '85354-9', title: 'Blood pressure 122/78 mmHg' },
      { tag: 'allergy', type: 'snomed:111088007', title: 'Allergy: Latex' },
      { tag: 'immunization', type: 'cvx:140', title: 'Immunization: Influenza' },
    ];
    for (let i = 0; i < ITEMS; i += 1000) {
      const batch: NewItem[] = [];
      for (let j = i; j < Math.min(ITEMS, i + 1000); j++) {
        const day = new Date(Date.UTC(2020, 0, 1) + (j % 2500) * 86_400_000).toISOString();
        const words = Array.from({ length: 12 }, (_, k) => WORDS[(j * 7 + k * 13) % WORDS.length]).join(' ');
        if (j % 4 === 0) {
          const k = kinds[j % kinds.length]!;
          batch.push({
            kind: 'record',
            source: 'fhir',
            type: k.type,
            title: k.title,
            text: `${k.title} on ${day.slice(0, 10)}. ${words}`,
            tags: [k.tag],
            occurredAt: day,
            external: { id: `Observation/${j}`, version: '1' },
          });
        } else {
          batch.push({ kind: 'note', source: 'manual', title: `Note ${j}`, text: `${words} note number ${j}`, occurredAt: day });
        }
      }
      await items.createMany(session, batch);
    }
    const itemSeconds = (performance.now() - t) / 1000;

    t = performance.now();
    const days = 500;
    const perDay = Math.max(1, Math.floor(SAMPLES / days / 2));
    for (let d = 0; d < days; d += 50) {
      const chunks: DayChunk[] = [];
      for (let dd = d; dd < Math.min(days, d + 50); dd++) {
        const date = new Date(Date.UTC(2025, 7, 1) + dd * 86_400_000).toISOString().slice(0, 10);
        const start = Date.parse(`${date}T00:00:00Z`);
        for (const [type, unit, base] of [
          ['HKQuantityTypeIdentifierHeartRate', 'count/min', 60],
          ['HKQuantityTypeIdentifierStepCount', 'count', 10],
        ] as const) {
          const samples = Array.from({ length: perDay }, (_, s) => ({
            type,
            unit,
            startMs: start + s * 60_000,
            endMs: start + s * 60_000 + (type.endsWith('StepCount') ? 60_000 : 0),
            localDate: date,
            value: base + (s % 40),
            sourceName: 'Watch',
          }));
          chunks.push(addSamples(emptyChunk(type, date, unit), samples));
        }
      }
      await series.store(session, chunks);
    }
    const seriesSeconds = (performance.now() - t) / 1000;

    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      SANDBOX_RUNTIME: 'url',
      OLLAMA_URL: fake.url,
      RATE_LIMIT_AUTH_PER_MIN: '1000',
      RATE_LIMIT_CHAT_PER_MIN: '100000',
    });
    const app = await buildApp({ config, db });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, passphrase }),
      });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const ttft: number[] = [];
      const perQuestion = new Map<string, number[]>();
      for (let round = 0; round < 4; round++) {
        for (const q of QUESTIONS) {
          const start = performance.now();
          const res = await fetch(`${base}/api/chat`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie, 'x-bench': '1' },
            body: JSON.stringify({ message: q, timeZone: 'UTC' }),
          });
          const reader = res.body!.getReader();
          let text = '';
          let first = 0;
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
            if (!first && text.includes('event: token')) first = performance.now() - start;
          }
          if (!first) throw new Error(`no token for "${q}": ${text.slice(0, 200)}`);
          if (round > 0) {
            ttft.push(first);
            perQuestion.set(q, [...(perQuestion.get(q) ?? []), first]);
          }
        }
      }
      return [
        { name: `setup: ${ITEMS} items encrypted and indexed`, value: ITEMS / itemSeconds, unit: 'items/s' },
        { name: `setup: ${perDay * days * 2} samples in day chunks`, value: (perDay * days * 2) / seriesSeconds, unit: 'samples/s' },
        { name: 'time to first token p50', value: pct(ttft, 50), unit: 'ms' },
        { name: 'time to first token p95', value: pct(ttft, 95), unit: 'ms', target: '< 50', pass: pct(ttft, 95) < 50 },
        ...[...perQuestion].map(([q, xs]) => ({ name: `  median for "${q}"`, value: pct(xs, 50), unit: 'ms' })),
      ];
    } finally {
      await app.close();
    }
  } finally {
    await db.destroy();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
