import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dashboard } from './Dashboard';

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('<Dashboard>', () => {
  it('with nothing to chart, says so without claiming there is no health data (lab results may be listed below)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/preferences' ? json({}) : json({ available: [], cards: [] }))),
    );
    render(<Dashboard version={0} />);
    expect(await screen.findByText(/No measurements to chart yet/)).toBeTruthy();
    expect(screen.queryByText(/No health data/)).toBeNull();
  });

  it('ends a chosen range at the latest data up to today, not at a metric dated only after today', async () => {
    const available = [
      { key: 'weight', title: 'Weight', first: '2024-01-01', last: '2024-05-04', later: '2999-12-31' },
      { key: 'bmi', title: 'BMI', first: '2999-12-31', last: '2999-12-31', later: '2999-12-31' },
    ];
    const fetch = vi.fn(async (url: string) => (url === '/api/preferences' ? json({}) : json({ available, cards: [] })));
    vi.stubGlobal('fetch', fetch);
    render(<Dashboard version={0} />);
    fireEvent.click(await screen.findByRole('button', { name: '90 days' }));
    await waitFor(() => expect(fetch).toHaveBeenCalledWith('/api/records/dashboard?from=2024-02-05&to=2024-05-04', expect.anything()));
  });
});
