/**
 * An OCR job whose item is deleted for good stops reading: the job must not then claim that it
 * read every page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scannedPdf } from '../../test-support/server/extraction-fixtures.js';
import { dbTargets, multipart, signUp, startTestServer, type TestServer } from '../../test-support/server/harness.js';
import { gatedTesseract } from '../../test-support/server/gated-tesseract.js';
import { waitJob } from '../../test-support/server/jobs.js';

describe.each(dbTargets())('OCR stopped by a permanent delete (%s)', (target) => {
  let sut: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  let gate: Awaited<ReturnType<typeof gatedTesseract>>;

  beforeAll(async () => {
    gate = await gatedTesseract();
    sut = await startTestServer(target, { OCR_TESSERACT_PATH: gate.path });
    user = await signUp(sut.app);
  });
  afterAll(async () => {
    await sut?.dispose();
    await gate?.dispose();
  });

  it('leaves the pages it read as the progress, not all of them', async () => {
    const pdf = await scannedPdf([['Discharge letter'], ['Atrial fibrillation'], ['Warfarin started'], ['Follow up']]);
    const up = await sut.app.inject({
      method: 'POST',
      url: '/api/files',
      ...multipart({ name: 'scan.pdf', type: 'application/pdf', data: pdf }, {}, user.headers),
    });
    expect(up.statusCode).toBe(201);
    const itemId = (up.json() as { id: string }).id;
    const jobs = (await sut.app.inject({ method: 'GET', url: '/api/jobs', headers: user.headers })).json() as { jobs: Array<{ id: string; kind: string }> };
    const jobId = jobs.jobs.find((j) => j.kind === 'extract')!.id;

    // Page 1 read, page 2 being read when the item is deleted for good.
    await gate.open(1);
    await gate.waitGiven(2);
    expect((await sut.app.inject({ method: 'DELETE', url: `/api/items/${itemId}`, headers: user.headers })).statusCode).toBe(204);
    expect((await sut.app.inject({ method: 'DELETE', url: `/api/trash/${itemId}`, headers: user.headers })).statusCode).toBe(204);
    await gate.open(2, 3, 4, 5, 6, 7, 8);
    const job = (await waitJob(sut.app, user.headers, jobId)) as { status: string; progress?: { done: number; total?: number } };
    expect(job.status).toBe('done');
    expect(job.progress).toEqual({ done: 2, total: 4, unit: 'pages' });
    // Page 3 was never given to tesseract.
    expect(await gate.given()).toBe(2);
  }, 120_000);
});
