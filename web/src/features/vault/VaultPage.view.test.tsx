import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { ItemPage } from './ItemPage';
import { VaultPage } from './VaultPage';
import { forgetVaultWords } from './vaultLocation';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const folder = { id: 'f1', name: 'Labs', parentId: null, count: 1, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
const item = {
  id: 'i1',
  kind: 'note',
  source: 'manual',
  title: 'A note',
  text: 'hello',
  tags: [],
  version: 1,
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
};
const calls: string[] = [];

beforeEach(() => {
  calls.length = 0;
  sessionStorage.clear();
  forgetVaultWords();
  window.history.replaceState(null, '', '/vault');
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      calls.push(url);
      if (url.startsWith('/api/search')) return reply(200, { results: [], mode: 'keyword' });
      if (url.startsWith('/api/items/i1')) return reply(200, item);
      if (url.startsWith('/api/items')) return reply(200, { items: [item], nextCursor: null });
      if (url.startsWith('/api/folders')) return reply(200, { folders: [folder] });
      if (url.startsWith('/api/trash')) return reply(200, { items: [] });
      return reply(200, { tags: [] });
    }),
  );
});
afterEach(() => vi.unstubAllGlobals());

const renderVault = () =>
  render(
    <RouterProvider>
      <VaultPage />
    </RouterProvider>,
  );

describe('filters while searching', () => {
  it('shows the filters that narrow a search, and each can be removed', async () => {
    renderVault();
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'note' } });
    fireEvent.click(await screen.findByRole('button', { name: /Labs/ }));
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'zebrafinch' } });
    expect(await screen.findByText('No matches')).toBeTruthy();
    expect(calls.some((u) => u.startsWith('/api/search') && u.includes('kind=note') && u.includes('folderId=f1'))).toBe(true);

    const line = screen.getByRole('group', { name: 'Search filters' });
    expect(line.textContent).toContain('Filtered:');
    expect(line.textContent).toContain('Kind Note');
    expect(line.textContent).toContain('Folder Labs');
    expect(screen.getByText(/Only the filtered items were searched/)).toBeTruthy();

    calls.length = 0;
    fireEvent.click(within(line).getByRole('button', { name: 'Remove filter Kind: Note' }));
    await vi.waitFor(() => expect(calls.some((u) => u.startsWith('/api/search') && !u.includes('kind=') && u.includes('folderId=f1'))).toBe(true));
    expect(screen.getByRole('group', { name: 'Search filters' }).textContent).not.toContain('Kind');

    calls.length = 0;
    fireEvent.click(screen.getByRole('button', { name: 'Search everything' }));
    await vi.waitFor(() => expect(calls.some((u) => u.startsWith('/api/search') && !u.includes('folderId='))).toBe(true));
    expect(screen.queryByRole('group', { name: 'Search filters' })).toBeNull();
  });
});

describe('the vault view is kept in the address, its words in memory', () => {
  it('puts folder, tab and filters in the URL, never the search words, and comes back to both', async () => {
    const first = renderVault();
    fireEvent.click(await screen.findByRole('button', { name: /Labs/ }));
    fireEvent.change(screen.getByLabelText('Tag'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Source'), { target: { value: 'manual' } });
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'blood' } });
    const params = new URLSearchParams(window.location.search);
    expect(params.get('folder')).toBe('f1');
    expect(params.get('source')).toBe('manual');
    // Vault words stay out of the address (browser history) and out of browser storage.
    expect(params.get('q')).toBeNull();
    expect(window.location.href).not.toContain('blood');
    expect(JSON.stringify({ ...sessionStorage })).not.toContain('blood');
    first.unmount();

    // Back on the vault in this page (from an item): the same place, and the search it had.
    renderVault();
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('blood');
    expect(await screen.findByRole('group', { name: 'Search filters' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Clear search' }));
    expect(((await screen.findByLabelText('Source')) as HTMLSelectElement).value).toBe('manual');
    const tree = await screen.findByRole('navigation', { name: 'Folders' });
    expect((await within(tree).findByRole('button', { name: /^Labs/ })).getAttribute('aria-current')).toBe('true');
  });

  it('forgets the search words at sign-out, and an old address with words in it loses them', async () => {
    window.history.replaceState(null, '', '/vault?folder=f1&q=secret');
    const first = renderVault();
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'blood' } });
    expect(window.location.search).toBe('?folder=f1');
    first.unmount();
    forgetVaultWords();
    renderVault();
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('');
  });

  it('keeps the Trash tab across a reload', async () => {
    const first = renderVault();
    fireEvent.click(screen.getByRole('tab', { name: 'Trash' }));
    expect(window.location.search).toBe('?view=trash');
    first.unmount();
    renderVault();
    expect(screen.getByRole('tab', { name: 'Trash' }).getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByText('Trash is empty')).toBeTruthy();
  });

  it('"Back to vault" and Back return to the folder the item was opened from', async () => {
    const first = renderVault();
    fireEvent.click(await screen.findByRole('button', { name: /Labs/ }));
    expect(window.location.search).toBe('?folder=f1');
    first.unmount();

    // Open the item (a new history entry), then use its link back.
    window.history.pushState(null, '', '/vault/i1');
    const page = render(
      <RouterProvider>
        <ItemPage id="i1" />
      </RouterProvider>,
    );
    const back = await screen.findByRole('link', { name: /Back to vault/ });
    expect(back.getAttribute('href')).toBe('/vault?folder=f1');
    page.unmount();

    // The browser's Back lands on the address the vault left, which holds the folder.
    await act(async () => {
      window.history.back();
      await new Promise((r) => window.addEventListener('popstate', r, { once: true }));
    });
    expect(window.location.pathname + window.location.search).toBe('/vault?folder=f1');
  });
});

describe('list views carry previews, the item page the whole item', () => {
  it('asks the list, search and trash for previews, and opens an item by its id', async () => {
    const first = renderVault();
    await screen.findByText('A note');
    fireEvent.change(screen.getByRole('searchbox'), { target: { value: 'zebrafinch' } });
    expect(await screen.findByText('No matches')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Clear search' }));
    fireEvent.click(await screen.findByRole('tab', { name: 'Trash' }));
    expect(await screen.findByText('Trash is empty')).toBeTruthy();
    const lists = calls.filter((u) => /^\/api\/(items\?|items$|search|trash)/.test(u));
    expect(lists.length).toBeGreaterThanOrEqual(3);
    for (const u of lists) expect(new URL(u, 'http://x').searchParams.get('text'), u).toBe('preview');
    first.unmount();

    calls.length = 0;
    render(
      <RouterProvider>
        <ItemPage id="i1" />
      </RouterProvider>,
    );
    expect(await screen.findByText('hello')).toBeTruthy();
    expect(calls).toContain('/api/items/i1');
  });
});
