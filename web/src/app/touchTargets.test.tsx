import { render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../api/types';
import { Dialog } from '../components/ui/Dialog';
import { ItemPage } from '../features/vault/ItemPage';
import { RouterProvider } from './router';
import { SessionProvider } from './session';
import { Shell } from './Shell';

/**
 * jsdom lays nothing out, so this checks the classes that give a control its phone size:
 * min-h-11 / min-w-11 are 2.75rem, 44 CSS px, below the sm breakpoint.
 */
function expectPhoneTouchTarget(el: HTMLElement) {
  const classes = el.className.split(/\s+/);
  expect(classes, el.textContent ?? el.getAttribute('aria-label') ?? '').toEqual(expect.arrayContaining(['max-sm:min-h-11', 'max-sm:min-w-11']));
}

const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const ID = '3f0c8a5e-0000-4000-8000-00000000000a';
const note: Item = {
  id: ID,
  kind: 'note',
  source: 'manual',
  type: '',
  title: 'Trip',
  text: 'flights',
  tags: ['travel'],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
};

afterEach(() => vi.unstubAllGlobals());

describe('touch targets on a phone (44x44 CSS px)', () => {
  it('cover the header: logo, menu, every destination and sign out', () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => reply({})),
    );
    render(
      <RouterProvider>
        <SessionProvider initialUser={{ id: 'u1', email: 'a@example.com' } as never}>
          <Shell>
            <p>Page</p>
          </Shell>
        </SessionProvider>
      </RouterProvider>,
    );
    const header = screen.getByRole('banner');
    const controls = [...within(header).getAllByRole('link'), ...within(header).getAllByRole('button')];
    expect(controls.length).toBe(8);
    controls.forEach(expectPhoneTouchTarget);
  });

  it('cover a dialog’s close button', () => {
    render(
      <Dialog open title="A dialog">
        <p>Body</p>
      </Dialog>,
    );
    expectPhoneTouchTarget(screen.getByRole('button', { name: 'Close' }));
  });

  it('cover a tag’s remove button and the item page’s buttons', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => reply(url.startsWith('/api/folders') ? { folders: [] } : note)),
    );
    render(
      <RouterProvider>
        <ItemPage id={ID} />
      </RouterProvider>,
    );
    expectPhoneTouchTarget(await screen.findByRole('button', { name: 'Remove tag travel' }));
    for (const name of ['Edit', 'History', 'Move to trash']) expectPhoneTouchTarget(screen.getByRole('button', { name }));
  });
});
