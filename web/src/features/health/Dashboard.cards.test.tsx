import { render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardCard } from './health-api';
import { fmt, unitLabel } from './health-api';
import { Dashboard } from './Dashboard';

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}
const point = (date: string, values: number[], days = 1) => ({
  date,
  days,
  count: values.length,
  min: Math.min(...values),
  max: Math.max(...values),
  mean: values.reduce((a, b) => a + b, 0) / values.length,
  sum: values.reduce((a, b) => a + b, 0),
});
const card = (c: Partial<DashboardCard> & Pick<DashboardCard, 'key' | 'title' | 'series'>): DashboardCard => ({
  stat: 'mean',
  unit: null,
  from: '1999-06-03',
  to: '1999-07-02',
  resolution: 'day',
  first: '1999-07-02',
  last: '1999-07-02',
  ...c,
});

async function show(cards: DashboardCard[]) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) =>
      url === '/api/preferences' ? json({}) : json({ available: cards.map((c) => ({ key: c.key, title: c.title, first: c.first, last: c.last })), cards }),
    ),
  );
  render(<Dashboard version={0} />);
  await screen.findAllByTestId('series-chart');
}
const chartLabel = (key: string) =>
  within(screen.getByTestId(`card-${key}`))
    .getByTestId('series-chart')
    .getAttribute('aria-label') ?? '';

afterEach(() => vi.unstubAllGlobals());

describe('dashboard card summaries', () => {
  it('summarises blood pressure series each on its own, one reading being one day', async () => {
    await show([
      card({
        key: 'bp',
        title: 'Blood pressure',
        unit: 'mm[Hg]',
        series: [
          { label: 'Systolic', code: '8480-6', points: [point('1999-07-02', [109])] },
          { label: 'Diastolic', code: '8462-4', points: [point('1999-07-02', [44])] },
        ],
      }),
    ]);
    const label = chartLabel('bp');
    expect(label).toContain('1 day with data');
    expect(label).toContain('average 109/44 mmHg');
    expect(label).not.toContain('77');
  });

  it('counts monthly buckets as months, and averages the readings, not the monthly means', async () => {
    await show([
      card({
        key: 'weight',
        title: 'Weight',
        unit: '[lb_av]',
        resolution: 'month',
        from: '2019-10-06',
        to: '2020-10-05',
        series: [{ label: 'Weight', code: '29463-7', points: [point('2020-04-01', [138.8, 138], 2), point('2020-10-01', [140])] }],
      }),
    ]);
    const label = chartLabel('weight');
    expect(label).toContain('2 months with data');
    expect(label).not.toContain('days with data');
    expect(label).toContain('average 138.9 lb');
    // A level is not a rate: no "a month" after the latest weight.
    const latest = within(screen.getByTestId('card-weight')).getByText(/^Latest/);
    expect(latest.textContent).toBe('Latest 140 lb');
  });

  it('keeps "a month" for sums, and the year on a multi-year axis', async () => {
    await show([
      card({
        key: 'steps',
        title: 'Steps',
        stat: 'sum',
        unit: 'count',
        resolution: 'month',
        from: '2015-12-09',
        to: '2020-12-06',
        series: [{ label: 'Steps', code: 'steps', points: [point('2015-12-01', [3000, 4000], 2), point('2020-12-01', [5000])] }],
      }),
    ]);
    const el = screen.getByTestId('card-steps');
    expect(within(el).getByText(/^Latest/).textContent).toBe('Latest 5,000 a month');
    const axis = [...el.querySelectorAll('svg text')].map((t) => t.textContent ?? '');
    expect(axis.some((t) => t.includes('2015'))).toBe(true);
    expect(axis.some((t) => t.includes('2020'))).toBe(true);
    // Steps have no unit: no stray " ." at the end; the daily average is over the days with data.
    expect(chartLabel('steps')).toMatch(/daily average 4,000\.$/);
  });

  it('shows distance in miles, never the UCUM code, and a tiny value not as 0', async () => {
    await show([
      card({
        key: 'distance',
        title: 'Distance',
        stat: 'sum',
        unit: '[mi_i]',
        from: '2014-09-26',
        to: '2014-09-26',
        series: [{ label: 'Distance', code: 'dist', points: [point('2014-09-26', [0.00205053, 0.00233014])] }],
      }),
    ]);
    const el = screen.getByTestId('card-distance');
    expect(el.textContent).not.toContain('[mi_i]');
    expect(within(el).getByText(/^Latest/).textContent).toBe('Latest 0.0044 mi');
    expect(chartLabel('distance')).toContain('daily average 0.0044 mi.');
    const ticks = [...el.querySelectorAll('svg text')].map((t) => t.textContent ?? '').filter((t) => /^[\d.,]+$/.test(t));
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});

describe('unitLabel and fmt', () => {
  it('never passes a bracketed UCUM code through', () => {
    expect(unitLabel('[mi_i]')).toBe('mi');
    expect(unitLabel('[lb_av]')).toBe('lb');
    expect(unitLabel('[in_i]')).toBe('in');
    expect(unitLabel('[oz_av]')).toBe('oz');
    expect(unitLabel('mm[Hg]')).toBe('mmHg');
    expect(unitLabel('count')).toBe('');
    expect(unitLabel('{beats}/min')).toBe('bpm');
    expect(unitLabel('kg')).toBe('kg');
  });
  it('keeps small values readable', () => {
    expect(fmt(0.00438, 1)).toBe('0.0044');
    expect(fmt(0, 1)).toBe('0');
    expect(fmt(139.24, 1)).toBe('139.2');
  });
});
