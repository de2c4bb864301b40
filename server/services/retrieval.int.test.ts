import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformAny } from '../../integrations/fhir/transform.js';
import { addSamples, emptyChunk, type DayChunk } from '../../integrations/series/day-chunk.js';
import type { QuantitySample } from '../../integrations/types.js';
import { buildPrompt } from '../chat/prompt.js';
import { parseQuestion } from '../chat/question.js';
import { estimateMessagesTokens } from '../chat/budget.js';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { ItemsRepository } from '../repositories/items.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import { ItemsService, type NewItem } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { RetrievalService } from './retrieval.service.js';
import { SearchService } from './search.service.js';
import { SeriesService } from './series.service.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../integrations/fhir/fixtures');
const NOW = new Date('2026-11-26T10:00:00Z');
const ZONE = 'Europe/London';

/**
 * Retrieval over the real sample data (US Core and Synthea FHIR) plus notes and generated
 * wearable series: for each question, the right items reach the prompt and unrelated ones don't.
 */
describe('chat retrieval on sample records', () => {
  let db: Database;
  let sut: RetrievalService;
  let session: SessionContext;
  let series: SeriesService;

  beforeAll(async () => {
    db = (await openDatabase({})).db;
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register('retrieval@example.com', 'a long test passphrase')).session.context;
    const itemsRepo = new ItemsRepository(db);
    const items = new ItemsService(itemsRepo);
    series = new SeriesService(new SeriesRepository(db));
    sut = new RetrievalService(items, new SearchService(itemsRepo, items), series);

    const samples: QuantitySample[] = [];
    const inputs: NewItem[] = [];
    for (const f of readdirSync(FIXTURES).filter((f) => /\.(json|ndjson)$/.test(f))) {
      const r = transformAny(readFileSync(path.join(FIXTURES, f), 'utf8'));
      samples.push(...r.samples);
      for (const rec of r.records) {
        inputs.push({
          kind: rec.kind,
          source: 'fhir',
          type: rec.type,
          title: rec.title,
          text: rec.text,
          tags: rec.tags,
          occurredAt: rec.occurredAt,
          data: rec.data,
          external: { id: rec.externalId, version: rec.externalVersion },
        });
      }
    }
    const note = (title: string, text: string, occurredAt: string): NewItem => ({ kind: 'note', source: 'manual', title, text, occurredAt });
    inputs.push(
      note('Dentist appointment', 'Dr. Patel cleaned my teeth; next check-up in six months. Flossing advice.', '2026-10-14T09:00:00Z'),
      note('Running plan', 'Couch to 5k week 3: run 3 minutes, walk 90 seconds, repeat five times.', '2026-11-20T07:00:00Z'),
      note('Car insurance renewal', 'Renewal due in December, premium went up to 640 pounds.', '2026-11-02T12:00:00Z'),
      note('Old diary', 'Visited grandmother in Leeds, lovely weather.', '2019-04-01T12:00:00Z'),
      // Metric values written down, not coded: found by the metric's own words.
      note('Diabetes check', 'Lab result: HbA1c was 6.1 percent on the March check. Doctor said prediabetes range.', '2026-03-10T09:00:00Z'),
      note('Cardiology visit', 'Dr. Smith reviewed my blood pressure, 135/85, and kept the dose.', '2026-09-02T15:00:00Z'),
      // 08:00 on 11 November in Tokyo is still 10 November in UTC.
      note('Breakfast meeting', 'Met Kenji for breakfast in Shinjuku, discussed the marathon training plan.', '2026-11-11T08:00:00+09:00'),
    );
    await items.createMany(session, inputs);

    // Wearable series: heart rate and steps every day of October and November 2026.
    for (let d = new Date('2026-10-01T00:00:00Z'); d <= NOW; d = new Date(d.getTime() + 86_400_000)) {
      const date = d.toISOString().slice(0, 10);
      for (let h = 8; h < 20; h += 4) {
        const t = Date.parse(`${date}T${String(h).padStart(2, '0')}:00:00Z`);
        samples.push({
          type: 'HKQuantityTypeIdentifierHeartRate',
          unit: 'count/min',
          startMs: t,
          endMs: t,
          localDate: date,
          value: 60 + h,
          sourceName: 'Watch',
        });
        samples.push({
          type: 'HKQuantityTypeIdentifierStepCount',
          unit: 'count',
          startMs: t,
          endMs: t + 3_600_000,
          localDate: date,
          value: 1000,
          sourceName: 'Watch',
        });
      }
    }
    const chunks = new Map<string, DayChunk>();
    for (const s of samples) {
      const key = `${s.type}|${s.localDate}`;
      chunks.set(key, addSamples(chunks.get(key) ?? emptyChunk(s.type, s.localDate, s.unit), [s]));
    }
    await series.store(session, [...chunks.values()]);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const ask = async (q: string) => {
    const parsed = parseQuestion(q, NOW, ZONE);
    const r = await sut.retrieve(session, q, parsed, NOW);
    const titles = r.cited.map((c) => c.title);
    const prompt = buildPrompt({ question: q, sources: r.prompt, numCtx: 8192, now: NOW, timeZone: ZONE });
    const inPrompt = prompt.used.map((n) => r.cited[n - 1]!.title);
    return { titles, inPrompt, prompt, r };
  };
  const has = (list: string[], re: RegExp) => list.some((t) => re.test(t));

  it('reads a day of the question as that day in the person’s zone', async () => {
    const titlesFor = async (q: string, zone: string) => (await sut.retrieve(session, q, parseQuestion(q, NOW, zone), NOW)).cited.map((c) => c.title);
    expect(await titlesFor('What did I do on November 11?', 'Asia/Tokyo')).toContain('Breakfast meeting');
    expect(await titlesFor('What did I do on November 10?', 'Asia/Tokyo')).not.toContain('Breakfast meeting');
    // In London the same instant is the evening of 10 November.
    expect(await titlesFor('What did I do on November 10?', 'Europe/London')).toContain('Breakfast meeting');
    expect(await titlesFor('What did I do on November 11?', 'Europe/London')).not.toContain('Breakfast meeting');
  });

  it.each([
    ['What medications am I taking?', [/Tylenol PM/, /Fexofenadine/, /Epinephrine/], [/Dentist/, /Allergy: Latex/]],
    ['Which meds did I stop?', [/Acetaminophen 325/, /Ibuprofen/], [/Car insurance/]],
    ['What am I allergic to?', [/Allergy: Aspirin/, /Allergy: Latex/, /sulfonamide/], [/Running plan/, /Tylenol PM/]],
    ['Do I have a latex allergy?', [/Allergy: Latex/], [/Car insurance/]],
    ['List my conditions', [/Burnt Ear/, /Social isolation/], [/Dentist/]],
    ['What vaccines have I had?', [/Hep B/, /Influenza, high-dose/, /SARS-COV-2/], [/Allergy/]],
    ['When did I get the COVID vaccine?', [/SARS-COV-2/], [/Dentist/]],
    ['Show my lab results', [/Hemoglobin 17/, /CBC panel/], [/Running plan/]],
    ['What was my hemoglobin?', [/Hemoglobin 17/], [/Car insurance/, /Dentist/]],
    ['What was my blood pressure?', [/Blood pressure 109\/44/, /Cardiology visit/], [/Dentist/]],
    ['What was my HbA1c?', [/Diabetes check/], [/Car insurance/, /Dentist/]],
    ['What is my weight?', [/Body weight/], [/Allergy/]],
    ['How has my heart rate been last month?', [/Heart rate daily summary, 2026-10-01 to 2026-10-31/], [/Dentist/, /Allergy/]],
    ['How many steps did I walk this week?', [/Steps daily summary, 2026-11-23 to 2026-11-2[56]/], [/Allergy/]],
    ['What did the dentist say?', [/Dentist appointment/], [/Car insurance/, /Allergy/]],
    ['When is my car insurance renewal?', [/Car insurance renewal/], [/Dentist/]],
    ['What is my running plan?', [/Running plan/], [/Car insurance/]],
    ['What happened in October 2026?', [/Dentist appointment/], [/Running plan/, /Old diary/]],
    ['What did I write in 2019?', [/Old diary/], [/Dentist/, /Running plan/]],
    ['Any notes since November?', [/Running plan/, /Car insurance/], [/Dentist/, /Old diary/]],
    ['Show my clinical notes', [/History and physical note/], [/Car insurance/]],
    ['What happened at the pulmonology clinic?', [/Pulmonology clinic/], [/Dentist/]],
    ['Tell me about my emergency department visits', [/Emergency department note/], [/Running plan/]],
    ['What was my pulse?', [/Heart rate 44/], [/Dentist/]],
  ] as Array<[string, RegExp[], RegExp[]]>)('%s', async (question, wanted, unwanted) => {
    const { inPrompt } = await ask(question);
    for (const w of wanted) expect(has(inPrompt, w), `${w} missing from ${JSON.stringify(inPrompt)}`).toBe(true);
    for (const u of unwanted) expect(has(inPrompt, u), `${u} should not be in ${JSON.stringify(inPrompt)}`).toBe(false);
  });

  it('summarises series per day instead of sending raw samples, with the right numbers', async () => {
    const { r } = await ask('How many steps did I take last month?');
    const steps = r.prompt.find((p) => /Steps daily summary/.test(p.title))!;
    expect(steps.text).toMatch(/3,?000/);
    expect(steps.text.length).toBeLessThan(4000);
  });

  it('never exceeds the prompt budget, even for broad questions with many matches', async () => {
    for (const numCtx of [2048, 4096, 8192, 32768]) {
      const q = 'Tell me everything about my medications, allergies, conditions, vaccines, labs, notes and heart rate this year';
      const parsed = parseQuestion(q, NOW, ZONE);
      const r = await sut.retrieve(session, q, parsed, NOW);
      const built = buildPrompt({ question: q, sources: r.prompt, numCtx, now: NOW, timeZone: ZONE });
      expect(built.tokens).toBeLessThanOrEqual(numCtx - 1024);
      expect(estimateMessagesTokens(built.messages)).toBeLessThanOrEqual(numCtx - 1024);
      expect(built.used.length).toBeGreaterThan(0);
    }
  });
});
