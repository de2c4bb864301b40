import { afterAll, describe, expect, it } from 'vitest';
import { buildPrompt } from '../chat/prompt.js';
import { parseQuestion } from '../chat/question.js';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import { ItemsService } from './items.service.js';
import { ManualService } from './manual.service.js';
import { RetrievalService } from './retrieval.service.js';
import { SearchService } from './search.service.js';
import { SeriesService } from './series.service.js';

describe('manual entries reach chat retrieval', () => {
  let db: Database;
  afterAll(async () => db?.destroy());

  it('a hand-entered blood pressure and medication are cited for questions about them', async () => {
    db = (await openDatabase({})).db;
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    const session = (await auth.register('manual-chat@example.com', 'a long test passphrase')).session.context;
    const itemsRepo = new ItemsRepository(db);
    const items = new ItemsService(itemsRepo);
    const series = new SeriesService(new SeriesRepository(db));
    const manual = new ManualService(items, series);
    await manual.create(session, { kind: 'blood_pressure', systolic: 141, diastolic: 92, at: '2026-11-20T08:00:00+00:00' });
    await manual.create(session, { kind: 'medication', name: 'Lisinopril 10 mg', status: 'active', start: '2026-11-21' });
    const sut = new RetrievalService(items, new SearchService(itemsRepo, items), series);
    const now = new Date('2026-11-26T10:00:00Z');
    const ask = async (q: string) => {
      const r = await sut.retrieve(session, q, parseQuestion(q, now, 'Europe/London'), now);
      const prompt = buildPrompt({ question: q, sources: r.prompt, numCtx: 8192, now, timeZone: 'Europe/London' });
      return prompt.messages.map((m) => m.content).join('\n');
    };
    expect(await ask('What was my blood pressure this month?')).toMatch(/141/);
    expect(await ask('What medications am I taking?')).toMatch(/Lisinopril 10 mg/);
  });
});
