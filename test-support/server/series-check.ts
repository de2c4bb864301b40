import { expect } from 'vitest';
import { DIASTOLIC, ENERGY, HR, STEPS, SYSTOLIC, type ExportSummary } from '../../bench/generators/apple-health.js';
import type { ServerProcess } from './server-process.js';

/**
 * Every day of every generated series reads back through `server` as the generator wrote it:
 * each sample counted exactly once, and the same sum (what an import resumed or repeated after
 * a kill must still give).
 */
export async function expectSeriesAsGenerated(server: ServerProcess, cookie: string, gen: ExportSummary): Promise<void> {
  for (const type of [HR, STEPS, ENERGY, SYSTOLIC, DIASTOLIC]) {
    const q = new URLSearchParams({ type, from: gen.from, to: gen.to });
    const { body } = await server.call<{ days: Array<{ date: string; count: number; sum: number }> }>('GET', `/api/records/series?${q}`, cookie);
    const want = gen.expectedDays(type);
    expect(
      body.days.map((d) => [d.date, d.count]),
      type,
    ).toEqual(want.map((d) => [d.date, d.count]));
    body.days.forEach((d, i) => expect(d.sum).toBeCloseTo(want[i]!.sum, 6));
  }
}
