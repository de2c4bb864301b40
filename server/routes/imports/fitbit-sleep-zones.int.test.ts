/**
 * A Fitbit archive imported without a zone, then again in New York and in Paris: the sleep
 * records (the nights as items) must move with the zone as the samples do, each import leaving
 * what one import in that zone alone leaves, not the night at its old instant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../../../test-support/integrations/fitbit/archive-writer.js';
import { ZONE_ARCHIVE } from '../../../test-support/integrations/fitbit/zone-archive.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { waitJob } from '../../../test-support/server/jobs.js';

type User = Awaited<ReturnType<typeof signUp>>;
type Night = { title: string; text: string; occurredAt: string | null };

describe.each(dbTargets())('Fitbit sleep records imported again in another time zone (%s)', (target) => {
  let sut: TestServer;
  const zip = buildZip(ZONE_ARCHIVE);
  // The UserSleeps row without an id column, as some exports write it: the night is named by its start.
  const withoutIds = buildZip(
    ZONE_ARCHIVE.map((e) => (e.name.includes('UserSleeps') ? { ...e, data: String(e.data).replace('sleep_id,', '').replace('\n3,', '\n') } : e)),
  );
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  const importAs = async (user: User, timezone?: string, archive = zip) => {
    const mp = multipart({ name: 'takeout.zip', type: 'application/zip', data: archive }, timezone ? { timezone } : {}, user.headers);
    const res = await sut.app.inject({ method: 'POST', url: '/api/import/fitbit', headers: mp.headers, payload: mp.payload });
    expect(res.statusCode, res.body).toBe(202);
    const job = await waitJob(sut.app, user.headers, (res.json() as { jobId: string }).jobId);
    expect(job.status, job.error).toBe('done');
  };
  const nights = async (user: User): Promise<Night[]> => {
    const res = await sut.app.inject({ method: 'GET', url: '/api/items?source=fitbit&type=HKCategoryTypeIdentifierSleepAnalysis', headers: user.headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: Night[] }).items
      .map(({ title, text, occurredAt }) => ({ title, text, occurredAt }))
      .sort((a, b) => String(a.occurredAt).localeCompare(String(b.occurredAt)));
  };

  it('none, then New York, then Paris: each time the nights of one import in that zone', async () => {
    const [moved, newYork, paris, utc] = await Promise.all([signUp(sut.app), signUp(sut.app), signUp(sut.app), signUp(sut.app)]);
    await importAs(newYork, 'America/New_York');
    await importAs(paris, 'Europe/Paris');
    await importAs(utc);
    const nyAlone = await nights(newYork);
    const utcAlone = await nights(utc);
    // The archive's nights fall on other instants by zone, or this test proves nothing.
    expect(nyAlone.length).toBeGreaterThan(0);
    expect(nyAlone.map((n) => n.occurredAt)).not.toEqual(utcAlone.map((n) => n.occurredAt));

    await importAs(moved);
    expect(await nights(moved)).toEqual(utcAlone);
    await importAs(moved, 'America/New_York');
    expect(await nights(moved)).toEqual(nyAlone);
    await importAs(moved, 'Europe/Paris');
    expect(await nights(moved)).toEqual(await nights(paris));
  });

  it('names a night without an id by a start no zone moves, so another zone does not store it twice', async () => {
    const [moved, newYork] = await Promise.all([signUp(sut.app), signUp(sut.app)]);
    await importAs(newYork, 'America/New_York', withoutIds);
    await importAs(moved, undefined, withoutIds);
    await importAs(moved, 'America/New_York', withoutIds);
    expect(await nights(moved)).toEqual(await nights(newYork));
  });
});
