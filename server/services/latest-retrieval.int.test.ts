import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildPrompt } from '../chat/prompt.js';
import { parseQuestion } from '../chat/question.js';
import type { Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { AuthService } from './auth.service.js';
import { ItemsService, type NewItem } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { RetrievalService } from './retrieval.service.js';
import { SearchService } from './search.service.js';

const NOW = new Date('2026-11-26T10:00:00Z');
const ZONE = 'Europe/London';
const NOTES = 60;
const FIRST = Date.parse('2026-01-01T07:00:00Z');
const dayMs = 86_400_000;

/** The diary's notes, one every 5 days from 1 January: the newest is 23 October 2026. */
const dates = Array.from({ length: NOTES }, (_, i) => new Date(FIRST + i * 5 * dayMs).toISOString());
const newest = dates[NOTES - 1]!;

/**
 * "What is my latest X?" over many notes that all mention X: more match than BM25's candidates
 * hold, so the newest must be looked up by date, or the model is given an outdated value.
 */
describe.each(dbTargets())('latest-value questions over notes (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let session: SessionContext;
  let items: ItemsService;
  let search: SearchService;
  let sut: RetrievalService;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(target));
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register(`latest-${target}@example.com`, 'a long test passphrase')).session.context;
    const itemsRepo = new ItemsRepository(db);
    items = new ItemsService(itemsRepo);
    search = new SearchService(itemsRepo, items);
    sut = new RetrievalService(items, search, undefined);
    // Later entries ramble more, so BM25 (shorter is better) alone ranks them last.
    const inputs: NewItem[] = dates.map((occurredAt, i) => ({
      kind: 'note',
      source: 'manual',
      title: 'Morning check',
      text: `Morning check. Weight ${(80 - i * 0.1).toFixed(1)} kg.${' Slept well, coffee, walked the dog.'.repeat(1 + Math.floor(i / 10))}`,
      occurredAt,
    }));
    inputs.push(
      {
        kind: 'note',
        source: 'manual',
        title: 'Car insurance renewal',
        text: 'Renewal due in December, premium 640 pounds.',
        occurredAt: '2026-11-02T12:00:00Z',
      },
      { kind: 'note', source: 'manual', title: 'Dentist appointment', text: 'Dr. Patel cleaned my teeth.', occurredAt: '2026-10-14T09:00:00Z' },
    );
    await items.createMany(session, inputs);
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await dispose?.();
  });

  const ask = async (q: string) => {
    const r = await sut.retrieve(session, q, parseQuestion(q, NOW, ZONE), NOW);
    const prompt = buildPrompt({ question: q, sources: r.prompt, numCtx: 8192, now: NOW, timeZone: ZONE });
    return { cited: r.cited, used: prompt.used.map((n) => r.cited[n - 1]!) };
  };

  it.each(['What is my latest weight?', 'What was my most recent weight?', 'What is my current weight?', 'What was my last weight?'])(
    '%s: the newest note is a source the model reads',
    async (q) => {
      const { used } = await ask(q);
      expect(
        used.map((s) => s.occurredAt),
        `newest ${newest} missing`,
      ).toContain(newest);
      expect(used.map((s) => s.title)).not.toContain('Car insurance renewal');
    },
  );

  it('keeps a date in the question: the last weight in March is the newest March note', async () => {
    const { used } = await ask('What was my last weight in March 2026?');
    const march = dates.filter((d) => d.startsWith('2026-03'));
    expect(used.map((s) => s.occurredAt)).toContain(march[march.length - 1]);
    expect(used.every((s) => s.occurredAt?.startsWith('2026-03'))).toBe(true);
  });

  it('an ordinary question makes no newest-first lookup, so its sources are as before', async () => {
    const spy = vi.spyOn(search, 'newest');
    const { cited } = await ask('What did I write about my weight?');
    expect(spy).not.toHaveBeenCalled();
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((s) => s.title === 'Morning check')).toBe(true);
    spy.mockRestore();
  });

  it('leaves a trashed newest note out and cites the next newest', async () => {
    const before = await ask('What is my latest weight?');
    const trashed = before.used.find((s) => s.occurredAt === newest)!;
    await items.trash(session, trashed.itemId!);
    const { cited, used } = await ask('What is my latest weight?');
    expect(cited.map((s) => s.itemId)).not.toContain(trashed.itemId);
    expect(used.map((s) => s.occurredAt)).toContain(dates[NOTES - 2]);
  });
});
