import { describe, expect, it } from 'vitest';
import { resolutionFor, rollUp } from './dashboard.service.js';
import { displayFactor } from './health/metrics.js';

describe('dashboard roll-ups', () => {
  it('picks daily points up to three months, weekly to half a year, monthly beyond', () => {
    expect(resolutionFor('2026-01-01', '2026-04-01')).toBe('day');
    expect(resolutionFor('2026-01-01', '2026-06-30')).toBe('week');
    expect(resolutionFor('2021-01-01', '2026-01-01')).toBe('month');
  });

  it('rolls days into ISO weeks with sample-weighted means, skipping empty days', () => {
    const day = (date: string, count: number, mean: number) => ({ date, count, min: mean - 1, max: mean + 1, mean, sum: mean * count });
    const weeks = rollUp(
      [day('2026-03-01', 1, 60), day('2026-03-02', 3, 70), day('2026-03-03', 0, 0), day('2026-03-08', 1, 50), day('2026-03-09', 2, 80)],
      'week',
    );
    expect(weeks).toEqual([
      { date: '2026-02-23', days: 1, count: 1, min: 59, max: 61, mean: 60, sum: 60 },
      { date: '2026-03-02', days: 2, count: 4, min: 49, max: 71, mean: 65, sum: 260 },
      { date: '2026-03-09', days: 1, count: 2, min: 79, max: 81, mean: 80, sum: 160 },
    ]);
  });

  it('converts stored units to the preferred ones', () => {
    expect(displayFactor('weight', '[lb_av]', 'kg')!.factor).toBeCloseTo(0.45359237, 8);
    expect(displayFactor('weight', 'kg', 'lb')!.factor).toBeCloseTo(2.2046226218, 8);
    expect(displayFactor('distance', 'km', 'mi')!.factor).toBeCloseTo(0.621371, 6);
    expect(displayFactor('distance', 'm', 'km')).toEqual({ unit: 'km', factor: 0.001 });
    expect(displayFactor('glucose', 'mg/dL', 'mmol/L')!.factor).toBeCloseTo(1 / 18.0156, 8);
    expect(displayFactor('weight', 'kg', 'kg')).toBeUndefined();
    expect(displayFactor(undefined, 'kg', 'lb')).toBeUndefined();
  });
});
