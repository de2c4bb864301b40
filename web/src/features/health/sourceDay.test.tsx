import { render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { formatDay } from '../../components/format';
import { ClinicalLists } from './ClinicalLists';
import LabTrendPage from './LabTrendPage';

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const inUtc = (day: string) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));

afterEach(() => vi.unstubAllGlobals());

// `date` is the instant; `day` the date as the source wrote it. The instant here is a full day and
// more after the day, so the browser's zone (any of them) cannot land it on the source's day.
const entry = {
  key: 'k1',
  name: 'Full-time employment',
  date: '2021-03-08T12:00:00Z',
  day: '2021-03-06',
  group: 'active',
  sources: [{ itemId: 'i1', source: 'fhir' }],
};

describe('dates in the health lists are the source’s own day', () => {
  it('formats a day without moving it into the browser’s zone', () => {
    expect(formatDay('2021-03-06')).toBe(inUtc('2021-03-06'));
    expect(formatDay(null)).toBe('');
    expect(formatDay('2021')).toBe('2021');
  });

  it('clinical lists show `day` when the API gives it', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => json({ entries: url.endsWith('/conditions') ? [entry] : [] })),
    );
    render(
      <RouterProvider>
        <ClinicalLists version={0} />
      </RouterProvider>,
    );
    const row = (await screen.findByText('Full-time employment')).closest('li')!;
    expect(within(row).getByText(inUtc('2021-03-06'))).toBeTruthy();
  });

  it('the lab trend table shows `day` when the API gives it', async () => {
    const trend = {
      code: '718-7',
      name: 'Hemoglobin',
      panel: 'Blood count',
      unit: 'g/dL',
      units: ['g/dL'],
      points: [{ date: '2021-03-08T12:00:00Z', day: '2021-03-06', value: 17, unit: 'g/dL', itemId: 'i1', source: 'fhir' }],
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(trend)),
    );
    render(
      <RouterProvider>
        <LabTrendPage code="718-7" />
      </RouterProvider>,
    );
    expect(await screen.findByText(inUtc('2021-03-06'))).toBeTruthy();
    expect((await screen.findByTestId('lab-chart')).getAttribute('aria-label')).toContain('from 2021-03-06 to 2021-03-06');
  });
});
