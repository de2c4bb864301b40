import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSamples, emptyChunk, mergeChunks, type DayChunk } from '../../integrations/series/day-chunk.js';
import type { QuantitySample } from '../../integrations/types.js';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import type { SessionContext } from './keyring.js';
import { sealNewChunk } from '../codec/series.js';
import { SeriesService } from './series.service.js';

const HR = 'HKQuantityTypeIdentifierHeartRate';
const hr = (iso: string, value: number, sourceName = 'Watch'): QuantitySample => {
  const ms = Date.parse(iso);
  return { type: HR, unit: '/min', startMs: ms, endMs: ms, localDate: iso.slice(0, 10), value, sourceName };
};
const chunk = (date: string, samples: QuantitySample[]): DayChunk => addSamples(emptyChunk(HR, date, '/min'), samples);

describe('SeriesService.storeSealed: chunks sealed by the import worker', () => {
  let db: Database;
  let sut: SeriesService;
  let session: SessionContext;

  beforeAll(async () => {
    db = (await openDatabase({})).db;
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register('series@example.com', 'a long test passphrase')).session.context;
    sut = new SeriesService(new SeriesRepository(db));
  });
  afterAll(() => db.destroy());

  const seal = (c: DayChunk) => sealNewChunk(session.keys.subkey('series'), session.userId, c);

  it('stores new days as sealed, merges stored and repeated days, and never counts a sample twice', async () => {
    const a = chunk('2026-06-01', [hr('2026-06-01T08:00:00Z', 60), hr('2026-06-01T09:00:00Z', 70)]);
    const b = chunk('2026-06-02', [hr('2026-06-02T08:00:00Z', 80)]);
    expect(await sut.storeSealed(session, [seal(a), seal(b)])).toEqual({ [HR]: 3 });

    // Day 1 again with one new sample; day 3 twice in one batch (drained, then more arrived).
    const a2 = chunk('2026-06-01', [hr('2026-06-01T09:00:00Z', 70), hr('2026-06-01T10:00:00Z', 90)]);
    const c1 = chunk('2026-06-03', [hr('2026-06-03T08:00:00Z', 50)]);
    const c2 = chunk('2026-06-03', [hr('2026-06-03T09:00:00Z', 55), hr('2026-06-03T08:00:00Z', 50)]);
    expect(await sut.storeSealed(session, [seal(a2), seal(c1), seal(c2)])).toEqual({ [HR]: 1 + 2 });

    // The same batches again add nothing.
    expect(await sut.storeSealed(session, [seal(a), seal(b), seal(a2), seal(c1), seal(c2)])).toEqual({});

    const { days, unit } = await sut.days(session, { type: HR });
    expect(unit).toBe('/min');
    expect(days).toEqual([
      { date: '2026-06-01', count: 3, min: 60, max: 90, mean: 220 / 3, sum: 220 },
      { date: '2026-06-02', count: 1, min: 80, max: 80, mean: 80, sum: 80 },
      { date: '2026-06-03', count: 2, min: 50, max: 55, mean: 52.5, sum: 105 },
    ]);
  });

  it('merges a batch of more returning days than one transaction takes, each as mergeChunks would', async () => {
    // 40 days of readings every 10 minutes from the watch, then the chest strap's hour of each
    // day (plus one sample the watch already had) in one batch: two transactions of merges.
    const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10));
    const watch = days.map((d) =>
      chunk(
        d,
        Array.from({ length: 144 }, (_, k) => hr(new Date(Date.parse(`${d}T00:00:00Z`) + k * 600_000).toISOString(), 50 + (k % 40))),
      ),
    );
    const strap = days.map((d) =>
      chunk(d, [
        ...Array.from({ length: 12 }, (_, k) => hr(new Date(Date.parse(`${d}T18:00:00Z`) + k * 300_000 + 1000).toISOString(), 120 + k, 'Strap')),
        hr(`${d}T00:00:00.000Z`, 50),
      ]),
    );
    expect(await sut.storeSealed(session, watch.map(seal))).toEqual({ [HR]: 40 * 144 });
    expect(await sut.storeSealed(session, strap.map(seal))).toEqual({ [HR]: 40 * 12 });
    const stored = await sut.chunks(session, HR, days[0]!, days[39]!);
    expect(stored).toEqual(days.map((_, i) => mergeChunks(watch[i]!, strap[i]!)));
  });

  it('refuses a chunk sealed for another user', async () => {
    const other = sealNewChunk(session.keys.subkey('series'), '00000000-0000-4000-8000-000000000000', chunk('2026-06-01', [hr('2026-06-01T11:00:00Z', 61)]));
    await expect(sut.storeSealed(session, [other])).rejects.toThrow();
  });
});
