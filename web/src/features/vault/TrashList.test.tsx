import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TrashList } from './TrashList';

const reply = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const item = {
  id: 'i1',
  kind: 'note',
  source: 'manual',
  title: 'Old note',
  tags: [],
  version: 1,
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-02T00:00:00Z',
};

afterEach(() => vi.unstubAllGlobals());

describe('<TrashList>', () => {
  it('asks before deleting one item for good, and Cancel keeps it', async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (init?.method === 'DELETE') return reply(204, null);
      return reply(200, { items: [item] });
    });
    vi.stubGlobal('fetch', fetch);
    render(<TrashList onRestored={() => undefined} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Old note for good' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('This cannot be undone');
    expect(fetch.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false);

    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fetch.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false);
    expect(screen.getByText('Old note')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Delete Old note for good' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete for good' }));
    await vi.waitFor(() => expect(fetch.mock.calls.some(([url, init]) => url === '/api/trash/i1' && init?.method === 'DELETE')).toBe(true));
    expect(await screen.findByText('Trash is empty')).toBeTruthy();
  });

  it('moves focus to the next row after a restore or a delete, not to <body>', async () => {
    const items = [item, { ...item, id: 'i2', title: 'Second' }, { ...item, id: 'i3', title: 'Third' }];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (init?.method === 'DELETE') return reply(204, null);
        if (init?.method === 'POST') return reply(200, item);
        return reply(200, { items });
      }),
    );
    render(
      <main id="main">
        <h1>Vault</h1>
        <TrashList onRestored={() => undefined} />
      </main>,
    );
    const restore = await screen.findByRole('button', { name: 'Restore Old note' });
    restore.focus();
    fireEvent.click(restore);
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Restore Second' })));

    // The last row deleted for good (through its dialog): focus goes to the row before it.
    const del = screen.getByRole('button', { name: 'Delete Third for good' });
    del.focus();
    fireEvent.click(del);
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete for good' }));
    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Restore Second' })));

    // The trash emptied: the page's heading.
    fireEvent.click(screen.getByRole('button', { name: 'Restore Second' }));
    await screen.findByText('Trash is empty');
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Vault' })));
  });
});
