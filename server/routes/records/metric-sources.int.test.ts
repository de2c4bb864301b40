import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { appleDate, exportXml, recordXml } from '../../../test-support/integrations/apple-health/export-writer.js';
import { dbTargets, multipart } from '../../../test-support/server/harness.js';
import { bundle, usCoreLab } from '../../../test-support/server/health-data.js';
import { pdfText } from '../../../test-support/server/pdf.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';

/**
 * One metric from several sources, each writing it under its own type code: Apple Health
 * (HKQuantityTypeIdentifierBodyMass), FHIR and hand entries (LOINC 29463-7). The dashboard and
 * the patient summary read one code per line, so a single hand entry hid years of imported data
 * and older FHIR vitals never showed (probe "health", defect 2); and a dashboard asked with only
 * `from` gave cards whose `from` was after their `to` (defect 7).
 */

type Headers = Record<string, string>;
interface Point {
  date: string;
  days: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}
interface Card {
  key: string;
  unit: string | null;
  from: string;
  to: string;
  resolution: string;
  series: Array<{ label: string; code: string; points: Point[] }>;
}

async function waitForJob(app: FastifyInstance, headers: Headers, res: { statusCode: number; body: string; json: () => unknown }) {
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as { jobId: string }).jobId;
  const end = Date.now() + 60_000;
  for (;;) {
    const job = (await app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers })).json() as { status: string; error?: string };
    if (job.status === 'done') return;
    if (job.status === 'failed' || Date.now() > end) throw new Error(`import ${job.status}: ${job.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Local time at -0700 (a Californian summer), as Apple writes it. */
const at = (date: string, hour: number) => appleDate(Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00Z`) + 7 * 3600_000, -420);

/** An Apple export: a weight each month of 2023, then June 2024's weights, temperatures (°F), a blood pressure. */
function appleExport(): string {
  let body = '';
  for (let m = 1; m <= 12; m++) body += recordXml('HKQuantityTypeIdentifierBodyMass', 'kg', 82, 'Scale', at(`2023-${String(m).padStart(2, '0')}-15`, 7));
  body += recordXml('HKQuantityTypeIdentifierBodyMass', 'kg', 80.1, 'Scale', at('2024-06-05', 7));
  body += recordXml('HKQuantityTypeIdentifierBodyMass', 'kg', 80.3, 'Scale', at('2024-06-06', 7));
  body += recordXml('HKQuantityTypeIdentifierBodyTemperature', 'degF', 98.6, 'Thermometer', at('2024-06-05', 7));
  body += recordXml('HKQuantityTypeIdentifierBodyTemperature', 'degF', 99, 'Thermometer', at('2024-06-05', 19));
  body += recordXml('HKQuantityTypeIdentifierBodyTemperature', 'degF', 98.6, 'Thermometer', at('2024-06-06', 7));
  body += recordXml('HKQuantityTypeIdentifierBloodPressureSystolic', 'mmHg', 128, 'Omron', at('2024-06-05', 8));
  body += recordXml('HKQuantityTypeIdentifierBloodPressureDiastolic', 'mmHg', 82, 'Omron', at('2024-06-05', 8));
  return exportXml(body);
}

const F_TO_C = (f: number) => ((f - 32) * 5) / 9;

describe.each(dbTargets())('one metric from several sources on %s', (target) => {
  const sut = signedInSuite(target);
  const app = () => sut.app;
  const dashboard = async (query: string) => {
    const res = await app().inject({ method: 'GET', url: `/api/records/dashboard${query}`, headers: sut.headers });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { cards: Card[] }).cards;
  };
  const card = async (query: string, key: string) => {
    const c = (await dashboard(query)).find((x) => x.key === key);
    expect(c, key).toBeDefined();
    return c!;
  };
  const manual = async (payload: Record<string, unknown>) => {
    const res = await app().inject({ method: 'POST', url: '/api/records/manual', headers: sut.headers, payload });
    expect(res.statusCode, res.body).toBe(201);
  };

  beforeAll(async () => {
    const mp = multipart({ name: 'export.xml', type: 'text/xml', data: Buffer.from(appleExport()) }, {}, sut.headers);
    await waitForJob(app(), sut.headers, await app().inject({ method: 'POST', url: '/api/import/apple-health', headers: mp.headers, payload: mp.payload }));
    // A clinic's record: vitals of 1999 and a glucose in mg/dL, all under LOINC codes.
    await waitForJob(
      app(),
      sut.headers,
      await app().inject({
        method: 'POST',
        url: '/api/import/fhir',
        headers: { ...sut.headers, 'content-type': 'application/fhir+json' },
        payload: bundle([
          usCoreLab({ id: 'hr-1999', loinc: '8867-4', display: 'Heart rate', value: 72, unit: '/min', date: '1999-07-02' }),
          usCoreLab({ id: 'wt-1999', loinc: '29463-7', display: 'Body weight', value: 70, unit: 'kg', date: '1999-07-02' }),
          usCoreLab({ id: 'glu-2024', loinc: '2345-7', display: 'Glucose', value: 105, unit: 'mg/dL', date: '2024-01-10' }),
        ]),
      }),
    );
    // Hand entries after the import, on its days and later ones.
    await manual({ kind: 'weight', value: 79.9, unit: 'kg', at: '2024-06-06T20:00:00-07:00' });
    await manual({ kind: 'weight', value: 79.5, unit: 'kg', at: '2024-06-10T08:00:00-07:00' });
    await manual({ kind: 'temperature', value: 38.2, unit: 'Cel', at: '2024-06-12T08:00:00-07:00' });
    await manual({ kind: 'blood_pressure', systolic: 135, diastolic: 85, at: '2024-06-12T08:00:00-07:00' });
    await manual({ kind: 'glucose', value: 5.5, unit: 'mmol/L', at: '2024-02-10T08:00:00+01:00' });
  }, 120_000);

  it('a dashboard line holds every source of its metric, merged per day in the unit of its latest data', async () => {
    const june = '?from=2024-06-01&to=2024-06-30';
    const weight = await card(june, 'weight');
    expect(weight.unit).toBe('kg');
    // Named by the code of its latest data (the hand entry of 06-10); Apple's 06-05 and 06-06 stay.
    expect(weight.series[0]!.code).toBe('29463-7');
    expect(weight.series[0]!.points.map((p) => [p.date, p.count, p.mean])).toEqual([
      ['2024-06-05', 1, 80.1],
      ['2024-06-06', 2, expect.closeTo(80.1, 9)],
      ['2024-06-10', 1, 79.5],
    ]);
    expect(weight.series[0]!.points[1]).toMatchObject({ min: 79.9, max: 80.3 });

    // Apple's °F converted to the hand entry's °C.
    const temp = await card(june, 'temperature');
    expect(temp.unit).toBe('Cel');
    expect(temp.series[0]!.points.map((p) => [p.date, p.count])).toEqual([
      ['2024-06-05', 2],
      ['2024-06-06', 1],
      ['2024-06-12', 1],
    ]);
    expect(temp.series[0]!.points[0]!.mean).toBeCloseTo((F_TO_C(98.6) + F_TO_C(99)) / 2, 9);
    expect(temp.series[0]!.points[2]!.mean).toBeCloseTo(38.2, 9);
    // A day that only Apple has: was the hand entries' code with no points.
    const day = await card('?from=2024-06-05&to=2024-06-05', 'temperature');
    expect(day.unit).toBe('[degF]');
    expect(day.series[0]!.points).toMatchObject([{ date: '2024-06-05', count: 2, min: 98.6, max: 99 }]);

    const bp = await card(june, 'blood_pressure');
    expect(bp.series.map((s) => [s.label, s.points.map((p) => [p.date, p.mean])])).toEqual([
      [
        'Systolic',
        [
          ['2024-06-05', 128],
          ['2024-06-12', 135],
        ],
      ],
      [
        'Diastolic',
        [
          ['2024-06-05', 82],
          ['2024-06-12', 85],
        ],
      ],
    ]);

    // A lab's glucose in mg/dL and a meter's hand entry in mmol/L (weekly points: 121 days).
    const glucose = await card('?from=2024-01-01&to=2024-04-30', 'glucose');
    expect(glucose).toMatchObject({ unit: 'mmol/L', resolution: 'week' });
    const g = glucose.series[0]!.points;
    expect(g.map((p) => p.date)).toEqual(['2024-01-08', '2024-02-05']);
    expect(g[0]!.mean).toBeCloseTo(105 / 18.0156, 2);
    expect(g[1]!.mean).toBe(5.5);

    // Old FHIR vitals: their codes are not the ones with the latest data, and were never read.
    const old = await dashboard('?from=1999-07-01&to=1999-07-31');
    const points = (key: string) => old.find((c) => c.key === key)!.series[0]!.points.map((p) => [p.date, p.mean]);
    expect(points('heart_rate')).toEqual([['1999-07-02', 72]]);
    expect(points('weight')).toEqual([['1999-07-02', 70]]);
  });

  it('monthly points: a month only one source has keeps its roll-up, a shared month counts each day once', async () => {
    const weight = await card('?from=2023-01-01&to=2024-12-31', 'weight');
    expect(weight.resolution).toBe('month');
    // Both codes have June 2024: its days tell which has the latest (the hand entry of 06-10).
    expect(weight.series[0]!.code).toBe('29463-7');
    const pts = weight.series[0]!.points;
    expect(pts).toHaveLength(13);
    expect(pts.slice(0, 12).every((p) => p.days === 1 && p.count === 1 && p.mean === 82)).toBe(true);
    // June 2024: Apple's 06-05 and 06-06, the hand entries of 06-06 and 06-10: three days, four weighings.
    expect(pts[12]).toMatchObject({ date: '2024-06-01', days: 3, count: 4, min: 79.5, max: 80.3 });
    expect(pts[12]!.mean).toBeCloseTo((80.1 + 80.3 + 79.9 + 79.5) / 4, 9);
    // The preferred unit converts the merged line as a whole.
    const put = await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { weight: 'lb' } } });
    expect(put.statusCode, put.body).toBe(200);
    const lb = await card('?from=2023-01-01&to=2024-12-31', 'weight');
    expect(lb.unit).toBe('lb');
    expect(lb.series[0]!.points[12]!.min).toBeCloseTo(79.5 * 2.2046226218, 6);
    await app().inject({ method: 'PUT', url: '/api/preferences', headers: sut.headers, payload: { units: { weight: 'kg' } } });
  });

  it('a dashboard asked with only `from` runs to today, and never ends before `from`', async () => {
    const before = new Date().toISOString().slice(0, 10);
    const cards = await dashboard('?from=2024-06-01');
    const after = new Date().toISOString().slice(0, 10);
    expect(cards.length).toBeGreaterThan(3);
    for (const c of cards) {
      expect(c.from, c.key).toBe('2024-06-01');
      expect([before, after], c.key).toContain(c.to);
    }
    // The 1999 heart rate's card ended in 1999, before its `from`.
    expect(cards.find((c) => c.key === 'heart_rate')!.to >= '2024-06-01').toBe(true);
    // The weight card holds June 2024 from every source.
    const june = cards.find((c) => c.key === 'weight')!.series[0]!.points.find((p) => p.date === '2024-06-01');
    expect(june).toMatchObject({ days: 3, count: 4 });
    // A `from` after today: the range is that day alone.
    for (const c of await dashboard('?from=2999-01-01')) expect([c.key, c.from, c.to]).toEqual([c.key, '2999-01-01', '2999-01-01']);
  });

  it('the patient summary: each vital from every source, latest across them all', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/api/summary',
      headers: sut.headers,
      payload: { sections: ['vitals'], from: '2024-06-01', to: '2024-06-30', format: 'fhir' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const b = res.json() as { entry: Array<{ resource: { resourceType: string; code?: { text?: string }; note?: Array<{ text: string }> } }> };
    const note = (title: string) => b.entry.map((e) => e.resource).find((r) => r.resourceType === 'Observation' && r.code?.text === title)?.note?.[0]?.text;
    expect(note('Weight (Weight)')).toBe('Mean of 3 daily means from 2024-06-05 to 2024-06-10; range 79.5–80.3 kg; latest 79.5 on 2024-06-10.');
    // The fever of 06-12 (hand entry, °C) and Apple's °F readings, converted.
    expect(note('Body temperature (Temperature)')).toBe(
      `Mean of 3 daily means from 2024-06-05 to 2024-06-12; range ${Math.round(F_TO_C(98.6) * 10) / 10}–38.2 Cel; latest 38.2 on 2024-06-12.`,
    );
    expect(note('Blood pressure (Systolic)')).toBe('Mean of 2 daily means from 2024-06-05 to 2024-06-12; range 128–135 mm[Hg]; latest 135 on 2024-06-12.');

    const pdf = await app().inject({
      method: 'POST',
      url: '/api/summary',
      headers: sut.headers,
      payload: { sections: ['vitals'], from: '2024-06-01', to: '2024-06-30', format: 'pdf' },
    });
    expect(pdf.statusCode).toBe(200);
    const text = await pdfText(pdf.rawPayload);
    expect(text).toContain('latest 79.5 kg (2024-06-10)');
    expect(text).toContain('latest 38.2 °C (2024-06-12)');
    // Old FHIR vitals are in a summary of their period.
    const old = await app().inject({
      method: 'POST',
      url: '/api/summary',
      headers: sut.headers,
      payload: { sections: ['vitals'], from: '1999-01-01', to: '1999-12-31', format: 'pdf' },
    });
    const oldText = await pdfText(old.rawPayload);
    expect(oldText).toContain('latest 72 bpm (1999-07-02)');
    expect(oldText).toContain('latest 70 kg (1999-07-02)');
  });
});
