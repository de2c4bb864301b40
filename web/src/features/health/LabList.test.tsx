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

describe('<LabList> bounds and words', () => {
  it('shows a bound with its comparator ("<40"), never as the plain number', async () => {
    const text = await shown({ ...glucose({ value: 40, comparator: '<', unit: 'mg/dL', date: '2026-05-07T06:00:00Z' }), unit: 'mg/dL' });
    expect(text).toContain('<40 mg/dL');
  });

  it('shows a result in words with its flag, no arrow and no link to a chart', async () => {
    const hiv: LabSummary = {
      code: '2345-7',
      name: 'HIV 1 and 2 Ag+Ab',
      panel: 'Infectious disease',
      unit: '',
      count: 1,
      latest: { text: 'Positive', unit: '', date: '2026-05-01T09:00:00Z', flag: 'abnormal' },
    };
    const text = await shown(hiv);
    expect(text).toContain('Positive');
    expect(text).toContain('abnormal');
    expect(text).not.toContain('(no unit)');
    expect(text).not.toContain('undefined');
    const row = screen.getByTestId('lab-2345-7');
    expect(row.tagName).not.toBe('A');
    expect(row.querySelector('a')).toBeNull();
  });

  it('keeps the arrow and the link for measured values', async () => {
    await shown({ ...glucose({ value: 5.5, unit: 'mmol/L', date: '2024-06-01T00:00:00Z' }), trend: 'up' });
    const row = screen.getByTestId('lab-2345-7');
    expect(row.closest('a')?.getAttribute('href')).toBe('/health/labs/2345-7');
    expect(screen.getByLabelText('rising')).toBeTruthy();
  });
});
