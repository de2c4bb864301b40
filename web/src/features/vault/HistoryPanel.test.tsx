import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item, VersionDiff } from '../../api/types';
import { HistoryPanel } from './HistoryPanel';

const ID = '3f0c8a5e-0000-4000-8000-000000000030';
const item: Item = {
  id: ID,
  kind: 'note',
  source: 'manual',
  type: null,
  title: 'Log',
  text: '',
  tags: ['keep', 'new'],
  occurredAt: '2026-03-04T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 2,
  folderId: null,
};
const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const lines = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

afterEach(() => vi.unstubAllGlobals());

async function showDiff(diff: Omit<VersionDiff, 'from' | 'to'>) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) =>
      url.endsWith('/diff')
        ? reply({ from: 1, to: 2, ...diff })
        : reply({
            versions: [
              { version: 2, title: 'Log', updatedAt: '2026-01-02T00:00:00Z', current: true, savedBy: null },
              { version: 1, title: 'Log', updatedAt: '2026-01-01T00:00:00Z', current: false, savedBy: null },
            ],
          }),
    ),
  );
  render(<HistoryPanel item={item} onRestored={() => undefined} />);
  fireEvent.click(await screen.findByRole('button', { name: /Version 1/ }));
  return screen.findByLabelText('Differences');
}
const same = { title: { before: 'Log', after: 'Log' }, tags: { removed: [], added: [] } };

describe('the history diff', () => {
  it('draws a bounded number of lines for a huge change, and says how many more changed', async () => {
    const shown = await showDiff({
      ...same,
      text: [
        { op: 'removed', lines: lines(100_000, 'old ') },
        { op: 'added', lines: lines(100_000, 'new ') },
      ],
    });
    expect(shown.querySelectorAll('span').length).toBeLessThan(1_000);
    expect(screen.getByText(/199,500 more lines changed/)).toBeTruthy();
    // A 10 MB answer to build and parse: slow on a loaded machine, not in the panel.
  }, 30_000);

  it('collapses unchanged runs to a few lines of context', async () => {
    const shown = await showDiff({
      ...same,
      text: [
        { op: 'same', lines: lines(5_000, 'a') },
        { op: 'added', lines: ['inserted'] },
        { op: 'same', lines: lines(5_000, 'b') },
      ],
    });
    expect(within(shown).getByText('+ inserted')).toBeTruthy();
    expect(within(shown).getByText('a4999')).toBeTruthy();
    expect(within(shown).getByText('b0')).toBeTruthy();
    expect(within(shown).queryByText('a0')).toBeNull();
    expect(within(shown).getAllByText(/unchanged lines/)).toHaveLength(2);
    expect(shown.querySelectorAll('span').length).toBeLessThan(50);
  });

  it('shows the tags and the date that changed', async () => {
    await showDiff({
      ...same,
      tags: { removed: ['old'], added: ['new'] },
      occurredAt: { before: '2026-03-01T00:00:00.000Z', after: '2026-03-04T00:00:00.000Z' },
      text: [{ op: 'same', lines: ['same text'] }],
    });
    const changes = screen.getByRole('list', { name: 'Other changes' });
    expect(within(changes).getByText(/Tags removed/).textContent).toContain('old');
    expect(within(changes).getByText(/Tags added/).textContent).toContain('new');
    expect(within(changes).getByText(/Date/).textContent).toMatch(/2026/);
  });
});
