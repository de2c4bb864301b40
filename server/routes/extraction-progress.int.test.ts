/**
 * An OCR job's progress only goes forward: a job interrupted by a restart reads its pages again
 * from the first when it resumes, and its bar must not jump back to 0 meanwhile.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.js';
import { scannedPdf } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { gatedTesseract } from '../../test-support/server/gated-tesseract.js';
import { waitJob } from '../../test-support/server/jobs.js';

describe.each(dbTargets())('OCR progress across a restart (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  let gate: Awaited<ReturnType<typeof gatedTesseract>>;

  beforeAll(async () => {
    // The n-th page tesseract is given waits for gate.open(n): the test decides which page a restart interrupts.
    gate = await gatedTesseract();
    sut = await startTestServer(target, { OCR_TESSERACT_PATH: gate.path });
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
    await gate?.dispose();
  });

  /** The job's progress as the stopped server left it in the database. */
  const storedProgress = async (jobId: string) => {
    const { db } = await openDatabase(sut.env.DATABASE_URL ? { url: sut.env.DATABASE_URL } : { dataDir: sut.dataDir });
    try {
      const row = (await sql<{ progress: unknown }>`select progress from jobs where id = ${jobId}`.execute(db)).rows[0]!;
      return typeof row.progress === 'string' ? (JSON.parse(row.progress) as unknown) : row.progress;
    } finally {
      await db.destroy();
    }
  };
  /** Any signed-in request hands the owner's keys to their interrupted jobs. */
  const signedInRequest = () => sut.app.inject({ method: 'GET', url: '/api/jobs', headers: user.headers });

  it('keeps the pages counted before a restart while the resumed job reads them again', async () => {
    const pdf = await scannedPdf([['Discharge letter'], ['Atrial fibrillation'], ['Warfarin started']]);
    const up = await sut.app.inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'scan.pdf', type: 'application/pdf', data: pdf }, {}, user.headers),
    });
    expect(up.statusCode).toBe(201);
    const itemId = (up.json() as { id: string }).id;
    const jobs = (await signedInRequest()).json() as { jobs: Array<{ id: string; kind: string }> };
    const jobId = jobs.jobs.find((j) => j.kind === 'extract')!.id;

    // Two pages read, the third being read when the server stops.
    await gate.open(1, 2);
    await gate.waitGiven(3);
    await sut.stop();
    expect(await storedProgress(jobId)).toEqual({ done: 2, total: 3, unit: 'pages' });

    // Resumed: it reads page 1 again, and stops there once more. The item is still being read:
    // no failure was recorded when the server stopped.
    await sut.restart();
    const meanwhile = await sut.app.inject({ method: 'GET', url: `/api/items/${itemId}`, headers: user.headers });
    expect((meanwhile.json() as { extraction: unknown }).extraction).toEqual({ status: 'pending' });
    await gate.waitGiven(4);
    await sut.stop();
    expect(await storedProgress(jobId)).toEqual({ done: 2, total: 3, unit: 'pages' });

    await sut.restart();
    await gate.open(4, 5, 6, 7, 8, 9);
    await signedInRequest();
    const job = await waitJob(sut.app, user.headers, jobId);
    expect(job.status).toBe('done');
    expect((job as { progress?: unknown }).progress).toEqual({ done: 3, total: 3, unit: 'pages' });
    const item = (await sut.app.inject({ method: 'GET', url: `/api/items/${itemId}`, headers: user.headers })).json() as { text: string; extraction: unknown };
    expect(item.extraction).toEqual({ status: 'ok' });
    expect(item.text).toMatch(/Warfarin started/);
  }, 120_000);
});
