import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import LabChart from './LabChart';
import LabTrendPage from './LabTrendPage';

afterEach(() => vi.unstubAllGlobals());

const point = { date: '2024-01-10', value: 17, unit: 'g/dL', itemId: 'i1', source: 'fhir' as const };

describe('counts on the lab trend page', () => {
  it('says "1 result", not "1 results"', async () => {
    const trend = { code: '718-7', name: 'Hemoglobin', panel: 'Blood count', unit: 'g/dL', units: ['g/dL'], points: [point] };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify(trend), { status: 200, headers: { 'content-type': 'application/json' } })),
    );
    render(
      <RouterProvider>
        <LabTrendPage code="718-7" />
      </RouterProvider>,
    );
    expect(await screen.findByText(/Blood count · 1 result · reference range not given/)).toBeTruthy();
  });

  it('names one point in the chart description in the singular', () => {
    render(<LabChart name="Hemoglobin" unit="g/dL" points={[point]} />);
    expect(screen.getByTestId('lab-chart').getAttribute('aria-label')).toContain(': 1 result from 2024-01-10');
  });
});

describe('counts in the series chart description', () => {
  it('says "1 day with data", not "1 days"', async () => {
    const { default: SeriesChart } = await import('./SeriesChart');
    const day = { date: '2024-03-01', count: 1, min: 70, max: 70, mean: 70, sum: 70 };
    render(<SeriesChart title="Weight" unit="kg" mode="line" from="2024-03-01" to="2024-03-07" series={[{ label: 'Weight', color: '#000', days: [day] }]} />);
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain(': 1 day with data,');
  });
});
