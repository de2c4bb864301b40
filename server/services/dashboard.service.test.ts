import { describe, expect, it } from 'vitest';
import { resolutionFor, rollUp } from './dashboard.service.js';
import { mergeDays } from './health/metric-lines.js';
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

describe('one line from several codes', () => {
  const day = (date: string, values: number[]) => ({
    date,
    count: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    sum: values.reduce((a, b) => a + b, 0),
  });

  it("readings: every code's samples count on a shared day, converted to the lead's unit", () => {
    const apple = { code: 'HKQuantityTypeIdentifierBodyMass', unit: '[lb_av]', points: [day('2024-06-05', [176]), day('2024-06-06', [180, 178])] };
    const hand = { code: '29463-7', unit: 'kg', points: [day('2024-06-06', [79.9]), day('2024-06-10', [79.5])] };
    const days = mergeDays([apple, hand], 'mean', hand);
    expect(days.map((d) => d.date)).toEqual(['2024-06-05', '2024-06-06', '2024-06-10']);
    expect(days[0]!.mean).toBeCloseTo(176 * 0.45359237, 9);
    expect(days[1]!.count).toBe(3);
    expect(days[1]!.mean).toBeCloseTo((180 * 0.45359237 + 178 * 0.45359237 + 79.9) / 3, 9);
    expect(days[1]!.min).toBe(79.9);
    expect(days[1]!.max).toBeCloseTo(180 * 0.45359237, 9);
    expect(days[1]!.sum).toBeCloseTo(358 * 0.45359237 + 79.9, 9);
  });

  it('daily totals: the code with the larger total speaks for a shared day, never both added up', () => {
    const watch = { code: 'HKQuantityTypeIdentifierStepCount', unit: 'count', points: [day('2024-06-05', [3000, 2000]), day('2024-06-06', [1000])] };
    const fhir = { code: '41950-7', unit: 'count', points: [day('2024-06-05', [4000]), day('2024-06-06', [4500]), day('2024-06-07', [3000])] };
    const days = mergeDays([watch, fhir], 'sum', fhir);
    expect(days.map((d) => [d.date, d.sum, d.count])).toEqual([
      ['2024-06-05', 5000, 2],
      ['2024-06-06', 4500, 1],
      ['2024-06-07', 3000, 1],
    ]);
  });

  it("glucose by molar mass between a lab's mg/dL and a meter's mmol/L; a unit that does not convert is left out", () => {
    const lab = { code: '2345-7', unit: 'mg/dL', points: [day('2024-01-10', [105])] };
    const meter = { code: '2339-0', unit: 'mmol/L', points: [day('2024-02-10', [5.5])] };
    const odd = { code: 'HKQuantityTypeIdentifierBloodGlucose', unit: 'kg', points: [day('2024-01-11', [1])] };
    const days = mergeDays([lab, meter, odd], 'mean', meter);
    expect(days.map((d) => d.date)).toEqual(['2024-01-10', '2024-02-10']);
    expect(days[0]!.mean).toBeCloseTo(105 / 18.0156, 6);
  });
});
