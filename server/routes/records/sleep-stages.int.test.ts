import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart } from '../../../test-support/server/harness.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

type Headers = Record<string, string>;
interface Card {
  key: string;
  unit: string | null;
  series: Array<{ label: string; code: string; points: Array<{ date: string; sum: number }> }>;
}

const SL = 'HKCategoryTypeIdentifierSleepAnalysis';
const stage = (s: string, e: string, v: string) =>
  `  <Record type="${SL}" sourceName="Watch" startDate="${s}" endDate="${e}" value="HKCategoryValueSleepAnalysis${v}"/>\n`;

async function importApple(app: FastifyInstance, headers: Headers, data: Buffer) {
  const mp = multipart({ name: 'export.xml', type: 'text/xml', data }, {}, headers);
  const res = await app.inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload });
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as { jobId: string }).jobId;
  for (let i = 0; i < 2400; i++) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string; error?: string };
    if (job.status === 'done') return;
    if (job.status === 'failed') throw new Error(`import failed: ${job.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('import did not finish');
}

describe.each(dbTargets())('sleep stages per night (%s)', (target) => {
  const sut = signedInSuite(target);
  beforeAll(async () => {
    // Two nights of a watch's stages, each starting after midnight local time.
    const body = [
      stage('2026-05-02 00:10:00 +0100', '2026-05-02 07:10:00 +0100', 'InBed'),
      stage('2026-05-02 00:20:00 +0100', '2026-05-02 02:20:00 +0100', 'AsleepCore'),
      stage('2026-05-02 02:20:00 +0100', '2026-05-02 03:30:00 +0100', 'AsleepDeep'),
      stage('2026-05-02 03:30:00 +0100', '2026-05-02 03:45:00 +0100', 'Awake'),
      stage('2026-05-02 03:45:00 +0100', '2026-05-02 05:15:00 +0100', 'AsleepREM'),
      stage('2026-05-03 00:30:00 +0100', '2026-05-03 04:30:00 +0100', 'AsleepCore'),
      stage('2026-05-03 04:30:00 +0100', '2026-05-03 05:00:00 +0100', 'AsleepDeep'),
    ].join('');
    await importApple(sut.app, sut.headers, Buffer.from(exportXml(body)));
  }, 120_000);

  it('the dashboard sleep card shows minutes asleep and each stage per night', async () => {
    const res = await sut.app.inject({ method: 'GET', url: '/api/records/dashboard?from=2026-05-01&to=2026-05-04', headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    const sleep = (res.json() as { cards: Card[] }).cards.find((c) => c.key === 'sleep')!;
    expect(sleep.unit).toBe('min');
    const byLabel = Object.fromEntries(sleep.series.map((s) => [s.label, Object.fromEntries(s.points.filter((p) => p.sum > 0).map((p) => [p.date, p.sum]))]));
    expect(byLabel).toEqual({
      Asleep: { '2026-05-02': 120 + 70 + 90, '2026-05-03': 240 + 30 },
      Deep: { '2026-05-02': 70, '2026-05-03': 30 },
      Core: { '2026-05-02': 120, '2026-05-03': 240 },
      REM: { '2026-05-02': 90 },
      Awake: { '2026-05-02': 15 },
    });
  });

  it('stage series are stored sealed like every other series', async () => {
    const dump = await sut.server.dumpDatabase();
    expect(dump).not.toContain('SleepAnalysisAsleepDeep');
    expect(dump).not.toContain('SleepAnalysis');
  });
});
