import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { VaultPage } from './VaultPage';

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
