import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOUCH_TARGET } from '../../components/ui/Button';
import type { DashboardCard } from './health-api';
import { Dashboard } from './Dashboard';
import LabChart from './LabChart';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const FAIL = { error: { code: 'internal', message: 'Internal error' } };

const heartRate: DashboardCard = {
  key: 'hr',
  title: 'Heart rate',
  stat: 'mean',
  unit: '/min',
  from: '1999-06-03',
  to: '1999-07-02',
  resolution: 'day',
  first: '1999-07-02',
  last: '1999-07-02',
  series: [{ label: 'Heart rate', code: '8867-4', points: [{ date: '1999-07-02', days: 1, count: 1, min: 44, max: 44, mean: 44, sum: 44 }] }],
};

afterEach(() => vi.unstubAllGlobals());

describe('<Dashboard> failing', () => {
  it('shows one alert with Try again, which asks the server again and shows the charts', async () => {
    let fail = true;
    const fetch = vi.fn(async (url: string) => {
      if (url === '/api/preferences') return reply(200, {});
      if (fail) return reply(500, FAIL);
      return reply(200, { available: [{ key: 'hr', title: 'Heart rate', first: '1999-07-02', last: '1999-07-02' }], cards: [heartRate] });
    });
    vi.stubGlobal('fetch', fetch);
    render(<Dashboard version={0} />);
    expect((await screen.findByRole('alert')).textContent).toBe('Internal error');
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('series-chart')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('<Dashboard> range', () => {
  it('marks the chosen range pressed (what the forced-colours style keys on) and is a full touch target on a phone', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/preferences' ? reply(200, {}) : reply(200, { available: [], cards: [] }))),
    );
    render(<Dashboard version={0} />);
    const group = await screen.findByRole('group', { name: 'Range' });
    const buttons = [...group.querySelectorAll('button')];
    expect(buttons.map((b) => b.getAttribute('aria-pressed'))).toEqual(['true', 'false', 'false', 'false']);
    fireEvent.click(screen.getByRole('button', { name: '1 year' }));
    await waitFor(() => expect(buttons.map((b) => b.getAttribute('aria-pressed'))).toEqual(['false', 'false', 'true', 'false']));
    for (const b of buttons) for (const c of TOUCH_TARGET.split(' ')) expect(b.classList).toContain(c);
  });
});

describe('chart descriptions', () => {
  it('a dashboard chart says its description once: as the picture’s name, not again as the figure’s name and a caption', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/preferences'
          ? reply(200, {})
          : reply(200, { available: [{ key: 'hr', title: 'Heart rate', first: 'x', last: 'x' }], cards: [heartRate] }),
      ),
    );
    render(<Dashboard version={0} />);
    const chart = await screen.findByTestId('series-chart');
    const description = chart.getAttribute('aria-label')!;
    expect(description).toMatch(/^Heart rate from 1999-06-03 to 1999-07-02/);
    expect(screen.getAllByRole('img', { name: description })).toHaveLength(1);
    expect(screen.queryAllByText(description)).toHaveLength(0);
    expect(screen.queryByRole('figure', { name: description })).toBeNull();
  });

  it('a lab chart too', () => {
    render(<LabChart name="Glucose" unit="mg/dL" points={[{ date: '2024-01-10', value: 92, unit: 'mg/dL', itemId: 'a', source: 'fhir' }]} />);
    const description = screen.getByTestId('lab-chart').getAttribute('aria-label')!;
    expect(screen.getAllByRole('img', { name: description })).toHaveLength(1);
    expect(screen.queryAllByText(description)).toHaveLength(0);
    expect(screen.queryByRole('figure', { name: description })).toBeNull();
  });
});
