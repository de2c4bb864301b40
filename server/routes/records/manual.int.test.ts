import { Decrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { dbTargets } from '../../../test-support/server/harness.js';
import { signedInSuite } from '../../../test-support/server/signed-in.js';
import { untar } from '../../../test-support/server/export-archive.js';

interface Item {
  id: string;
  source: string;
  type: string | null;
  title: string;
  text: string;
  tags: string[];
  occurredAt: string | null;
  data?: Record<string, unknown>;
}

describe.each(dbTargets())('manual entries on %s', (target) => {
  const sut = signedInSuite(target);
  const app = () => sut.app;
  const post = (payload: Record<string, unknown>) => app().inject({ method: 'POST', url: '/api/records/manual', headers: sut.headers, payload });
  const series = async (type: string, from = '2026-06-01', to = '2026-06-30') =>
    (await app().inject({ method: 'GET', url: `/api/records/series?type=${type}&from=${from}&to=${to}`, headers: sut.headers })).json() as {
      unit: string | null;
      days: Array<{ date: string; count: number; mean: number }>;
    };

  let bp: Item;
  it('a blood pressure typed in is a FHIR-shaped record of source manual and on its chart, on its local day', async () => {
    // 00:30 in Berlin on June 2 is still June 1 in UTC: the chart puts it on June 2.
    const res = await post({ kind: 'blood_pressure', systolic: 132, diastolic: 86, at: '2026-06-02T00:30:00+02:00', note: 'after coffee' });
    expect(res.statusCode, res.body).toBe(201);
    bp = res.json() as Item;
    expect(bp).toMatchObject({ source: 'manual', type: '85354-9', title: 'Blood pressure 132/86 mmHg' });
    expect(bp.tags).toEqual(expect.arrayContaining(['manual', 'vital-signs', 'observation']));
    expect(bp.data!.resource).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      component: [{ valueQuantity: { value: 132, code: 'mm[Hg]' } }, { valueQuantity: { value: 86 } }],
    });
    expect((await series('8480-6')).days).toEqual([expect.objectContaining({ date: '2026-06-02', count: 1, mean: 132 })]);
    expect((await series('8462-4')).days).toEqual([expect.objectContaining({ date: '2026-06-02', mean: 86 })]);
  });

  it('editing moves the sample: the chart shows the new value only, the item keeps its id', async () => {
    const res = await app().inject({
      method: 'PUT',
      url: `/api/records/manual/${bp.id}`,
      headers: sut.headers,
      payload: { kind: 'blood_pressure', systolic: 128, diastolic: 84, at: '2026-06-03T08:00:00+02:00' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: bp.id, title: 'Blood pressure 128/84 mmHg' });
    const days = (await series('8480-6')).days.filter((d) => d.count > 0);
    expect(days).toEqual([expect.objectContaining({ date: '2026-06-03', count: 1, mean: 128 })]);
  });

  it('weight in lb and glucose in mmol/L land on their series and the glucose trend', async () => {
    expect((await post({ kind: 'weight', value: 154.3, unit: 'lb', at: '2026-06-05T07:00:00-05:00' })).statusCode).toBe(201);
    expect((await series('29463-7')).days[0]).toMatchObject({ date: '2026-06-05', mean: 154.3 });
    expect((await series('29463-7')).unit).toBe('[lb_av]');
    expect((await post({ kind: 'glucose', value: 6.1, unit: 'mmol/L', at: '2026-06-05T07:05:00-05:00' })).statusCode).toBe(201);
    const trend = (await app().inject({ method: 'GET', url: '/api/records/labs/2345-7?unit=mg/dL', headers: sut.headers })).json() as {
      points: Array<{ value: number; source: string }>;
    };
    expect(trend.points).toEqual([expect.objectContaining({ value: 110, source: 'manual' })]);
  });

  it('glucose typed in mg/dL one day and mmol/L the other is one series in one unit', async () => {
    expect((await post({ kind: 'glucose', value: 108, unit: 'mg/dL', at: '2026-06-06T07:05:00-05:00' })).statusCode).toBe(201);
    const s = await series('2339-0');
    expect(s.unit).toBe('mmol/L');
    expect(s.days.map((d) => [d.date, Math.round(d.mean * 100) / 100])).toEqual([
      ['2026-06-05', 6.1],
      ['2026-06-06', 5.99],
    ]);
  });

  it('glucose typed in mg/dL on a day that holds one in mmol/L is converted into that day, not left out', async () => {
    // 140 mg/dL the evening of June 5, after the 6.1 mmol/L of the morning.
    expect((await post({ kind: 'glucose', value: 140, unit: 'mg/dL', at: '2026-06-05T20:00:00-05:00' })).statusCode).toBe(201);
    const day = (await series('2339-0')).days.find((d) => d.date === '2026-06-05') as unknown as { count: number; min: number; max: number };
    expect(day.count).toBe(2);
    expect(day.min).toBeCloseTo(6.1, 6);
    expect(day.max).toBeCloseTo(140 / 18.0156, 6);
  });

  it('a medication, an allergy and a condition appear in their lists with source manual', async () => {
    expect(
      (await post({ kind: 'medication', name: 'Metformin 500 mg', dosage: 'twice daily with food', status: 'active', start: '2026-05-01' })).statusCode,
    ).toBe(201);
    expect((await post({ kind: 'allergy', substance: 'Penicillin', reaction: 'Hives', criticality: 'high' })).statusCode).toBe(201);
    expect((await post({ kind: 'condition', name: 'Type 2 diabetes', status: 'active', onset: '2026-04-20' })).statusCode).toBe(201);
    const list = async (kind: string) =>
      (
        (await app().inject({ method: 'GET', url: `/api/records/clinical/${kind}`, headers: sut.headers })).json() as {
          entries: Array<Record<string, unknown>>;
        }
      ).entries;
    expect(await list('medications')).toEqual([
      expect.objectContaining({
        name: 'Metformin 500 mg',
        group: 'current',
        detail: 'twice daily with food',
        sources: [expect.objectContaining({ source: 'manual' })],
      }),
    ]);
    expect(await list('allergies')).toEqual([expect.objectContaining({ name: 'Penicillin', criticality: 'high', reactions: ['Hives'], group: 'active' })]);
    expect(await list('conditions')).toEqual([expect.objectContaining({ name: 'Type 2 diabetes', group: 'active' })]);
  });

  it('hand entries are found by search and are in the export', async () => {
    const found = (await app().inject({ method: 'GET', url: '/api/search?q=metformin', headers: sut.headers })).json() as { results: Array<{ item: Item }> };
    expect(found.results.map((r) => r.item.title)).toEqual([expect.stringMatching(/Metformin 500 mg/)]);
    const penicillin = (await app().inject({ method: 'GET', url: '/api/search?q=penicillin', headers: sut.headers })).json() as {
      results: Array<{ item: Item }>;
    };
    expect(penicillin.results).toHaveLength(1);
    const passphrase = 'export passphrase for manual entries';
    const res = await app().inject({ method: 'POST', url: '/api/export', headers: sut.headers, payload: { passphrase } });
    expect(res.statusCode).toBe(200);
    const d = new Decrypter();
    d.addPassphrase(passphrase);
    const files = await untar(Buffer.from(await d.decrypt(new Uint8Array(res.rawPayload))));
    const items = files
      .get('items.jsonl')!
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Item & { item?: Item });
    const titles = items.map((i) => (i.item ?? i).title);
    expect(titles).toEqual(expect.arrayContaining(['Blood pressure 128/84 mmHg', 'Allergy: Penicillin (high criticality)']));
    expect(titles.some((t) => /Metformin/.test(t))).toBe(true);
  });

  it('deleting a hand entry takes it off the chart; imported records are not editable here; bad input is a 400', async () => {
    expect((await app().inject({ method: 'DELETE', url: `/api/records/manual/${bp.id}`, headers: sut.headers })).statusCode).toBe(204);
    expect((await series('8480-6')).days.filter((d) => d.count > 0)).toEqual([]);
    const note = (await app().inject({ method: 'POST', url: '/api/items', headers: sut.headers, payload: { title: 'a note', text: 'x' } })).json() as Item;
    expect(
      (
        await app().inject({
          method: 'PUT',
          url: `/api/records/manual/${note.id}`,
          headers: sut.headers,
          payload: { kind: 'weight', value: 70, unit: 'kg', at: '2026-06-01T08:00:00Z' },
        })
      ).statusCode,
    ).toBe(404);
    for (const payload of [
      { kind: 'blood_pressure', systolic: 500, diastolic: 80, at: '2026-06-01T08:00:00Z' },
      { kind: 'weight', value: 70, unit: 'stone', at: '2026-06-01T08:00:00Z' },
      { kind: 'weight', value: 70, unit: 'kg', at: '2026-06-01 08:00' },
      { kind: 'spell', name: 'x' },
      // Each was stored as typed: a pressure upside down, no body temperature, a course ending before it began.
      { kind: 'blood_pressure', systolic: 60, diastolic: 180, at: '2026-06-01T08:00:00Z' },
      { kind: 'temperature', value: 110, unit: 'Cel', at: '2026-06-01T08:00:00Z' },
      { kind: 'temperature', value: 26, unit: '[degF]', at: '2026-06-01T08:00:00Z' },
      { kind: 'medication', name: 'Metformin', status: 'completed', start: '2024-05-01', end: '2024-04-01' },
      { kind: 'condition', name: 'Asthma', status: 'resolved', onset: '2024-05-01', abatement: '2023-01-01' },
    ]) {
      const r = await post(payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect((r.json() as { error: { message: string } }).error.message).toBeTruthy();
    }
    for (const payload of [
      { kind: 'temperature', value: 37.2, unit: 'Cel', at: '2026-06-01T08:00:00Z' },
      { kind: 'temperature', value: 99.1, unit: '[degF]', at: '2026-06-01T09:00:00Z' },
      { kind: 'medication', name: 'Metformin', status: 'completed', start: '2024-05-01', end: '2024-05-01' },
    ]) {
      expect((await post(payload)).statusCode, JSON.stringify(payload)).toBe(201);
    }
  });

  it('a hand entry moved to the trash and restored shows again on its chart, through either delete', async () => {
    const made = (await post({ kind: 'blood_pressure', systolic: 141, diastolic: 91, at: '2026-06-12T09:00:00Z' })).json() as Item;
    const onChart = async () => (await series('8480-6')).days.filter((d) => d.count > 0);
    expect(await onChart()).toEqual([expect.objectContaining({ date: '2026-06-12', count: 1, mean: 141 })]);
    const restore = async () => {
      const r = await app().inject({ method: 'POST', url: `/api/items/${made.id}/restore`, headers: sut.headers });
      expect(r.statusCode, r.body).toBe(200);
    };

    expect((await app().inject({ method: 'DELETE', url: `/api/records/manual/${made.id}`, headers: sut.headers })).statusCode).toBe(204);
    expect(await onChart()).toEqual([]);
    await restore();
    expect(await onChart()).toEqual([expect.objectContaining({ date: '2026-06-12', count: 1, mean: 141 })]);
    expect((await series('8462-4')).days.filter((d) => d.count > 0)).toEqual([expect.objectContaining({ date: '2026-06-12', mean: 91 })]);

    // The vault's own trash (the item page's Delete) takes it off the chart too, and restoring brings it back.
    expect((await app().inject({ method: 'DELETE', url: `/api/items/${made.id}`, headers: sut.headers })).statusCode).toBe(204);
    expect(await onChart()).toEqual([]);
    await restore();
    expect(await onChart()).toEqual([expect.objectContaining({ date: '2026-06-12', count: 1, mean: 141 })]);
  });
});
