/**
 * Apple Health sleep through the HTTP import: one night's stage segments, which cross midnight,
 * count as one night on the date it started (docs/API.md), and importing them again adds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, signUp, startTestServer, type TestServer } from '../../../test-support/server/harness.js';
import { importApple } from '../../../test-support/server/jobs.js';

const SL = 'HKCategoryTypeIdentifierSleepAnalysis';
const sleep = (s: string, e: string, stage: string) =>
  `  <Record type="${SL}" sourceName="Anna’s Apple Watch" startDate="2024-07-0${s} +0200" endDate="2024-07-0${e} +0200" value="HKCategoryValueSleepAnalysis${stage}"/>\n`;
// The probe's night: in bed 21:50, asleep 22:00 to 06:00.
const NIGHT = [
  sleep('1 21:50:00', '2 06:10:00', 'InBed'),
  sleep('1 22:00:00', '2 01:00:00', 'AsleepCore'),
  sleep('2 01:00:00', '2 02:00:00', 'AsleepDeep'),
  sleep('2 02:00:00', '2 06:00:00', 'AsleepCore'),
];

describe.each(dbTargets())('Apple Health sleep over HTTP (%s)', (target) => {
  let sut: TestServer;
  beforeAll(async () => {
    sut = await startTestServer(target);
  });
  afterAll(async () => {
    await sut?.dispose();
  });

  it('files a night whole on the date it started, and a re-import in any order adds nothing', async () => {
    const user = await signUp(sut.app);
    const days = async (type: string) => {
      const res = await sut.app.inject({ method: 'GET', url: `/api/records/series?type=${type}&from=2024-06-30&to=2024-07-03`, headers: user.headers });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { days: Array<{ date: string; sum: number }> }).days.map((d) => [d.date, d.sum]);
    };
    const first = await importApple(sut.app, user.headers, exportXml(NIGHT.join('')));
    expect(first.status, first.error).toBe('done');
    expect(await days(SL)).toEqual([['2024-07-01', 480]]);
    expect(await days('HKCategoryValueSleepAnalysisAsleepDeep')).toEqual([['2024-07-01', 60]]);

    for (const body of [NIGHT.join(''), [...NIGHT].reverse().join('')]) {
      const again = await importApple(sut.app, user.headers, exportXml(body));
      expect(again.status, again.error).toBe('done');
      expect(Object.values(again.result!.imported).reduce((a, b) => a + b, 0)).toBe(0);
    }
    expect(await days(SL)).toEqual([['2024-07-01', 480]]);
  });
});
