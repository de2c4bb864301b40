import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { ItemPage } from './ItemPage';
import { TrashList } from './TrashList';

// jsdom lays nothing out: these check the classes that keep a 390 px screen readable, which a
// real browser at that width was seen to need (titles squeezed to nothing, a page scrolling sideways).
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const LONG_TAG = 'x'.repeat(64);
const note: Item = {
  id: '3f0c8a5e-0000-4000-8000-000000000005',
  kind: 'note',
  source: 'manual',
  type: '',
  title: 'Physio plan',
  text: 'Knee exercises',
  tags: [LONG_TAG],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-02T00:00:00Z',
  version: 1,
  folderId: null,
};
const classes = (el: Element | null) => (el?.getAttribute('class') ?? '').split(/\s+/);

afterEach(() => vi.unstubAllGlobals());

describe('on a phone', () => {
  it('a trash row gives the title its own full-width line, with the buttons wrapping under it', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => reply(200, { items: [note] })),
    );
    render(<TrashList onRestored={() => undefined} />);
    const title = await screen.findByText('Physio plan');
    const row = title.closest('li');
    expect(classes(row)).toContain('flex-wrap');
    const titleLine = screen.getByTestId('trash-row-title');
    expect(titleLine.contains(title)).toBe(true);
    expect(titleLine.contains(screen.getByRole('button', { name: 'Restore Physio plan' }))).toBe(false);
    // Full width below the sm breakpoint; one line with the buttons from sm up.
    expect(classes(titleLine)).toEqual(expect.arrayContaining(['basis-full', 'sm:basis-0', 'min-w-0']));
    expect(classes(title)).toEqual(expect.arrayContaining(['truncate', 'min-w-0']));
    expect(title.getAttribute('title')).toBe('Physio plan');
  });

  it('a 64-character tag breaks inside its chip instead of widening the page', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url.startsWith('/api/folders') ? reply(200, { folders: [] }) : reply(200, note))),
    );
    render(
      <RouterProvider>
        <ItemPage id={note.id} />
      </RouterProvider>,
    );
    const text = await screen.findByText(`#${LONG_TAG}`);
    expect(classes(text)).toContain('break-all');
    expect(classes(text)).toContain('min-w-0');
    const chip = text.parentElement;
    expect(classes(chip)).toContain('max-w-full');
    expect(chip?.contains(screen.getByRole('button', { name: `Remove tag ${LONG_TAG}` }))).toBe(true);
  });
});
