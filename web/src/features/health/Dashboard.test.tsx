import { render, screen } from '@testing-library/react';
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
});
