import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { VaultPage } from './VaultPage';
import { forgetVaultWords } from './vaultLocation';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('vault search', () => {
  it('shows why a search failed, never "0 results" or "No matches" for it', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url.startsWith('/api/search?q=short&')) return reply(200, { results: [], mode: 'keyword' });
        if (url.startsWith('/api/search'))
          return reply(400, { error: { code: 'invalid_request', message: 'q: Too big: expected string to have <=500 characters' } });
        if (url.startsWith('/api/items')) return reply(200, { items: [], nextCursor: null });
        if (url.startsWith('/api/folders')) return reply(200, { folders: [] });
        return reply(200, { tags: [] });
      }),
    );
    render(
      <RouterProvider>
        <VaultPage />
      </RouterProvider>,
    );
    const box = screen.getByRole('searchbox');
    expect(box.getAttribute('maxlength')).toBe('500');
    // The probe typed its way there: a shorter search had answered before the long one failed.
    fireEvent.change(box, { target: { value: 'short' } });
    expect(await screen.findByText('No matches')).toBeTruthy();
    fireEvent.change(box, { target: { value: 'a much longer search' } });
    expect(await screen.findByText('The search is too long: at most 500 characters.')).toBeTruthy();
    expect(screen.queryByText(/0 results/)).toBeNull();
    expect(screen.queryByText('No matches')).toBeNull();
  });
});

describe('folder counts', () => {
  it('follow an item restored from the trash, without a reload', async () => {
    const trashed = {
      id: 'i1',
      kind: 'note',
      source: 'manual',
      title: 'Old note',
      tags: [],
      version: 1,
      createdAt: '2025-01-01T00:00:00Z',
      updatedAt: '2025-01-02T00:00:00Z',
    };
    forgetVaultWords();
    let inLabs = 2;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === '/api/items/i1/restore' && init?.method === 'POST') {
          inLabs = 3;
          return reply(200, trashed);
        }
        if (url.startsWith('/api/trash')) return reply(200, { items: [trashed] });
        if (url.startsWith('/api/items')) return reply(200, { items: [], nextCursor: null });
        if (url.startsWith('/api/folders')) return reply(200, { folders: [{ id: 'f1', name: 'Labs', parentId: null, count: inLabs }] });
        return reply(200, { tags: [] });
      }),
    );
    window.history.replaceState(null, '', '/vault');
    render(
      <RouterProvider>
        <VaultPage />
      </RouterProvider>,
    );
    const labs = () => within(screen.getByRole('navigation', { name: 'Folders' })).getByRole('button', { name: /Labs/ });
    expect((await vi.waitFor(labs)).textContent).toContain('2');
    fireEvent.click(screen.getByRole('tab', { name: 'Trash' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Restore Old note' }));
    await screen.findByText('Trash is empty');
    fireEvent.click(screen.getByRole('tab', { name: 'All items' }));
    await vi.waitFor(() => expect(labs().textContent).toContain('3'));
  });
});

describe('offline', () => {
  it('announces the lost connection once, not once for the list and once for the folders', async () => {
    forgetVaultWords();
    const fetchMock = vi.fn(async (_url: string) => {
      throw new TypeError('Failed to fetch');
    });
    vi.stubGlobal('fetch', fetchMock);
    window.history.replaceState(null, '', '/vault');
    render(
      <RouterProvider>
        <VaultPage />
      </RouterProvider>,
    );
    await screen.findByRole('alert');
    // Both the list and the folders have failed (and their errors rendered) before counting.
    await vi.waitFor(() => {
      const urls = fetchMock.mock.calls.map(([url]) => url);
      expect(urls.some((u) => u.startsWith('/api/items'))).toBe(true);
      expect(urls.some((u) => u.startsWith('/api/folders'))).toBe(true);
    });
    await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
    expect(screen.getAllByRole('alert').map((a) => a.textContent)).toEqual(['Could not reach Context Vault. Check your connection and try again.']);
  });
});
