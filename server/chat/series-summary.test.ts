import { describe, expect, it } from 'vitest';
import { summarizeSeries, type DayStat } from './series-summary.js';

function dates(start: string, n: number): string[] {
  const t0 = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(t0 + i * 86_400_000).toISOString().slice(0, 10));
}

function stepsDays(n: number, start = '2026-10-01'): DayStat[] {
  return dates(start, n).map((date, i) => {
    const sum = 6000 + i * 100;
    return { date, count: 96, min: 0, max: 1800, mean: sum / 96, sum };
  });
}

function heartDays(n: number, start = '2026-10-01'): DayStat[] {
  return dates(start, n).map((date, i) => ({ date, count: 400, min: 48 + (i % 3), max: 150 - (i % 5), mean: 70.4 - i * 0.1, sum: 400 * (70.4 - i * 0.1) }));
}

describe('summarizeSeries', () => {
  it('steps: daily totals, not means', () => {
    const out = summarizeSeries({ label: 'Steps', unit: 'steps', days: stepsDays(5) }, 20);
    expect(out).toBe(
      [
        'Steps (steps): 2026-10-01 to 2026-10-05, 5 days with data.',
        'Daily total: average 6200, lowest 6000 on 2026-10-01, highest 6400 on 2026-10-05; 31000 in all.',
        'First day 2026-10-01: total 6000; last day 2026-10-05: total 6400. Trend: rising (fitted line 6000 to 6400).',
        'Per day (total):',
        '2026-10-01: 6000',
        '2026-10-02: 6100',
        '2026-10-03: 6200',
        '2026-10-04: 6300',
        '2026-10-05: 6400',
      ].join('\n'),
    );
    expect(out).not.toMatch(/mean/);
  });

  it('heart rate: reading-weighted means with min and max', () => {
    const out = summarizeSeries({ label: 'Heart rate', unit: 'bpm', days: heartDays(4) }, 20);
    expect(out).toBe(
      [
        'Heart rate (bpm): 2026-10-01 to 2026-10-04, 4 days with data, 1600 readings.',
        'Overall: mean 70, lowest 48 on 2026-10-01, highest 150 on 2026-10-01.',
        'First day 2026-10-01: mean 70; last day 2026-10-04: mean 70. Trend: stable (fitted line 70 to 70).',
        'Per day (mean, min-max, readings):',
        '2026-10-01: mean 70, 48-150, n=400',
        '2026-10-02: mean 70, 49-149, n=400',
        '2026-10-03: mean 70, 50-148, n=400',
        '2026-10-04: mean 70, 48-147, n=400',
      ].join('\n'),
    );
  });

  it('the cumulative default comes from METRICS, and can be overridden', () => {
    expect(summarizeSeries({ label: 'step count', days: stepsDays(3) }, 10)).toMatch(/Daily total/);
    expect(summarizeSeries({ label: 'Steps', days: stepsDays(3), cumulative: false }, 10)).toMatch(/Overall: mean/);
  });

  it('folds into weeks, then months, within maxLines', () => {
    const weekly = summarizeSeries({ label: 'Steps', days: stepsDays(60) }, 15);
    expect(weekly.split('\n').length).toBeLessThanOrEqual(15);
    expect(weekly).toMatch(/Per week \(Monday start\):\nweek of 2026-09-28: total \d+, \d+\/day over 4 days/);

    const monthly = summarizeSeries({ label: 'Heart rate', unit: 'bpm', days: heartDays(400, '2025-01-01') }, 20);
    const lines = monthly.split('\n');
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(monthly).toMatch(/Per month:\n2025-01: mean [\d.]+, \d+-\d+, n=12400, 31 days/);
    expect(monthly).toMatch(/Trend: falling/);

    const clipped = summarizeSeries({ label: 'Heart rate', days: heartDays(400, '2025-01-01') }, 8);
    const clippedLines = clipped.split('\n');
    expect(clippedLines.length).toBe(8);
    expect(clippedLines[4]).toBe('(11 earlier months omitted)');
    expect(clippedLines[7]).toMatch(/^2026-02: /);
  });

  it('never exceeds maxLines, even tiny ones', () => {
    for (const max of [1, 2, 3, 4, 5, 7, 12, 40]) {
      for (const n of [1, 3, 10, 50, 500]) {
        const out = summarizeSeries({ label: 'Weight', unit: 'kg', days: heartDays(n) }, max);
        expect(out.split('\n').length).toBeLessThanOrEqual(max);
      }
    }
  });

  it('rounds to the precision of the data', () => {
    const weight = dates('2026-01-01', 3).map((date, i) => ({
      date,
      count: 1,
      min: 72.4 + i * 0.1,
      max: 72.4 + i * 0.1,
      mean: 72.4 + i * 0.1,
      sum: 72.4 + i * 0.1,
    }));
    const out = summarizeSeries({ label: 'Weight', unit: 'kg', days: weight }, 10);
    expect(out).toContain('2026-01-02: 72.5');
    expect(out).toContain('lowest 72.4 on 2026-01-01');
    expect(out).not.toMatch(/72\.50000/);
    const spo2 = [{ date: '2026-01-01', count: 10, min: 0.93, max: 0.99, mean: 0.9633333, sum: 9.633 }];
    expect(summarizeSeries({ label: 'Oxygen saturation', days: spo2 }, 10)).toContain('mean 0.96, 0.93-0.99, n=10');
  });

  it('merges duplicate days, drops junk and sorts', () => {
    const out = summarizeSeries(
      {
        label: 'Heart rate',
        days: [
          { date: '2026-10-02', count: 1, min: 80, max: 80, mean: 80, sum: 80 },
          { date: '2026-10-01', count: 1, min: 60, max: 60, mean: 60, sum: 60 },
          { date: '2026-10-01', count: 3, min: 64, max: 70, mean: 68, sum: 204 },
          { date: 'not-a-date', count: 1, min: 1, max: 1, mean: 1, sum: 1 },
          { date: '2026-10-03', count: 0, min: 0, max: 0, mean: 0, sum: 0 },
          { date: '2026-10-04', count: 2, min: Number.NaN, max: 1, mean: 1, sum: 2 },
        ],
      },
      10,
    );
    expect(out).toContain('2026-10-01 to 2026-10-02, 2 days with data, 5 readings');
    expect(out).toContain('2026-10-01: mean 66, 60-70, n=4');
    expect(out).toContain('Trend: too few days to tell.');
  });

  it('says so when there is no data', () => {
    expect(summarizeSeries({ label: 'Sleep', days: [] }, 10)).toBe('Sleep: no data in this period.');
  });
});
