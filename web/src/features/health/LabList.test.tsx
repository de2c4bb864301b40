import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { LabList } from './LabList';
import type { LabSummary } from './health-api';

afterEach(() => vi.unstubAllGlobals());

const glucose = (latest: LabSummary['latest']): LabSummary => ({ code: '2345-7', name: 'Glucose', panel: 'Diabetes', unit: 'mmol/L', count: 2, latest });

async function shown(lab: LabSummary): Promise<string> {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify({ labs: [lab] }), { status: 200, headers: { 'content-type': 'application/json' } })),
  );
  render(
    <RouterProvider>
      <LabList version={0} />
    </RouterProvider>,
  );
  return (await screen.findByTestId('lab-2345-7')).textContent ?? '';
}

describe('<LabList>', () => {
  it('shows the latest value in its own unit, not the unit of the results before it', async () => {
    expect(await shown(glucose({ value: 5.5, unit: 'mmol/L', date: '2024-06-01T00:00:00Z' }))).toContain('5.5 mmol/L');
  });

  it('says a value sent without a unit has none, never the preferred unit', async () => {
    const text = await shown(glucose({ value: 99, unit: '', date: '2024-05-01T00:00:00Z' }));
    expect(text).toContain('99 (no unit)');
    expect(text).not.toContain('mmol/L');
  });
});
