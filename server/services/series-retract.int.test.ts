import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSamples, emptyChunk, type DayChunk } from '../../integrations/series/day-chunk.js';
import type { QuantitySample } from '../../integrations/types.js';
import { createPgDatabase, dbTargets } from '../../test-support/server/harness.js';
import { sealNewChunk } from '../codec/series.js';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { JobsRepository } from '../repositories/jobs.repository.js';
import { SeriesRepository } from '../repositories/series.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import type { SessionContext } from './keyring.js';
import { SeriesService } from './series.service.js';

const SLEEP = 'HKCategoryTypeIdentifierSleepAnalysis';
const sleep = (startIso: string, minutes: number, value: number, sourceName = 'Fitbit', date = startIso.slice(0, 10)): QuantitySample => {
  const ms = Date.parse(startIso);
  return { type: SLEEP, unit: 'min', startMs: ms, endMs: ms + minutes * 60_000, localDate: date, value, sourceName };
};
const chunk = (date: string, samples: QuantitySample[]): DayChunk => addSamples(emptyChunk(SLEEP, date, 'min'), samples);

describe.each(dbTargets())('SeriesService.retractSealed and the earlier Fitbit zones (%s)', (target) => {
  let db: Database;
  let dispose: (() => Promise<void>) | undefined;
  let sut: SeriesService;
  let session: SessionContext;

  beforeAll(async () => {
    if (target === 'postgres') {
      const pg = await createPgDatabase();
      dispose = pg.dispose;
      db = (await openDatabase({ url: pg.url })).db;
    } else db = (await openDatabase({})).db;
    await migrateToLatest(db);
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    session = (await auth.register('retract@example.com', 'a long test passphrase')).session.context;
    sut = new SeriesService(new SeriesRepository(db));
  });
  afterAll(async () => {
    await db?.destroy();
    await dispose?.();
  });

  const seal = (c: DayChunk) => sealNewChunk(session.keys.subkey('series'), session.userId, c);

  it('removes exactly the samples given (start, duration, value and source), again and again harmlessly', async () => {
    const night = sleep('2024-03-09T23:30:00Z', 450, 420);
    const kept = [
      sleep('2024-03-09T23:30:00Z', 449, 420), // another duration
      sleep('2024-03-09T23:30:00Z', 450, 419), // another value
      sleep('2024-03-09T23:30:00Z', 450, 420, 'Charge 6'), // another source
      sleep('2024-03-09T14:00:00Z', 40, 35),
    ];
    expect(await sut.storeSealed(session, [seal(chunk('2024-03-09', [night, ...kept]))])).toEqual({ [SLEEP]: 5 });

    const retraction = [seal(chunk('2024-03-09', [night])), seal(chunk('2024-03-20', [sleep('2024-03-20T01:00:00Z', 60, 60)]))];
    await sut.retractSealed(session, retraction);
    const stored = await sut.chunks(session, SLEEP, '2024-03-09', '2024-03-09');
    expect(stored).toEqual([chunk('2024-03-09', kept)]);
    // The day's stats are recomputed (a sum over the source with the most, as for any sleep day).
    const after = await sut.days(session, { type: SLEEP, from: '2024-03-01', to: '2024-03-31' });
    expect(after.days).toEqual([{ date: '2024-03-09', count: 3, min: 35, max: 420, mean: (420 + 419 + 35) / 3, sum: 420 + 419 + 35 }]);

    // A resumed job sends its retractions again: nothing changes, not even the row's version.
    await sut.retractSealed(session, retraction);
    await sut.retractSealed(session, [...retraction, ...retraction]);
    expect(await sut.chunks(session, SLEEP, '2024-03-09', '2024-03-09')).toEqual(stored);
    // No row for a day that had nothing stored.
    expect(await sut.chunks(session, SLEEP, '2024-03-20', '2024-03-20')).toEqual([]);

    // What was taken back can come again, as new.
    expect(await sut.storeSealed(session, [seal(chunk('2024-03-09', [night]))])).toEqual({ [SLEEP]: 1 });
  });

  it('takes a batch of more days than one transaction holds, a day repeated in it, and leaves emptied days as no data', async () => {
    const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2023, 0, 1 + i)).toISOString().slice(0, 10));
    const nights = days.map((d) => [sleep(`${d}T01:00:00Z`, 400, 380), sleep(`${d}T13:00:00Z`, 30, 25)]);
    await sut.storeSealed(
      session,
      days.map((d, i) => seal(chunk(d, nights[i]!))),
    );
    // Every night taken back, the naps in a second chunk of the same day in the same batch.
    await sut.retractSealed(session, [
      ...days.map((d, i) => seal(chunk(d, [nights[i]![0]!]))),
      ...days.slice(0, 5).map((d, i) => seal(chunk(d, [nights[i]![1]!]))),
    ]);
    const left = await sut.days(session, { type: SLEEP, from: days[0]!, to: days[39]! });
    expect(left.days).toEqual(days.slice(5).map((date) => ({ date, count: 1, min: 25, max: 25, mean: 25, sum: 25 })));
  });

  it('remove (hand entries, FHIR corrections) still matches by start, value and source only, two of a day at once', async () => {
    const a = sleep('2022-05-01T01:00:00Z', 400, 380);
    const b = sleep('2022-05-01T02:00:00Z', 400, 380, 'Watch');
    await sut.storeSealed(session, [seal(chunk('2022-05-01', [a, b]))]);
    await sut.remove(session, [
      { ...a, endMs: a.startMs },
      { ...b, sourceName: 'Phone' },
    ]);
    expect((await sut.days(session, { type: SLEEP, from: '2022-05-01', to: '2022-05-01' })).days).toEqual([
      { date: '2022-05-01', count: 1, min: 380, max: 380, mean: 380, sum: 380 },
    ]);
    await sut.remove(session, [{ ...b, sourceName: 'Phone' }], { anySource: true });
    expect((await sut.days(session, { type: SLEEP, from: '2022-05-01', to: '2022-05-01' })).days).toEqual([]);
  });

  it('lists the zones of the user’s other Fitbit jobs that started, newest first, besides its own', async () => {
    const jobs = new JobsRepository(db);
    const other = (
      await new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 }).register(
        'other@example.com',
        'a long test passphrase',
      )
    ).session.context;
    const ids: string[] = [];
    const add = async (userId: string, kind: string, format: string, status: 'queued' | 'done' | 'failed' | 'running', startedMinutesAgo?: number) => {
      const id = crypto.randomUUID();
      ids.push(id);
      await jobs.insert({ id, userId, kind, progress: {}, inputRef: null, inputFormat: format });
      if (startedMinutesAgo !== undefined) {
        await db
          .updateTable('jobs')
          .set({ status, started_at: new Date(Date.now() - startedMinutesAgo * 60_000) })
          .where('id', '=', id)
          .execute();
      }
      return id;
    };
    const self = await add(session.userId, 'fitbit', 'zip;tz=Asia/Tokyo', 'running', 0);
    await add(session.userId, 'fitbit', 'zip', 'done', 50);
    await add(session.userId, 'fitbit', 'tgz;tz=America/New_York', 'failed', 40);
    await add(session.userId, 'fitbit', 'zip;tz=Europe/Paris', 'done', 30);
    await add(session.userId, 'fitbit', 'zip;tz=America/New_York', 'done', 20);
    await add(session.userId, 'fitbit', 'zip;tz=Europe/Berlin', 'queued'); // never started
    await add(session.userId, 'fitbit', 'zip;tz=Asia/Tokyo', 'done', 10); // its own zone
    await add(session.userId, 'apple_health', 'zip', 'done', 5);
    await add(other.userId, 'fitbit', 'zip;tz=Australia/Sydney', 'done', 5);
    expect(await jobs.otherFitbitZones(session.userId, self, 'Asia/Tokyo', 8)).toEqual(['America/New_York', 'Europe/Paris', 'UTC']);
    expect(await jobs.otherFitbitZones(session.userId, self, 'Asia/Tokyo', 2)).toEqual(['America/New_York', 'Europe/Paris']);
    expect(await jobs.otherFitbitZones(session.userId, self, 'UTC', 8)).toEqual(['Asia/Tokyo', 'America/New_York', 'Europe/Paris']);
  });
});
