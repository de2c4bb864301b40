import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { ChatPage } from './ChatPage';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const chat = (id: string, title: string) => ({ id, title, updatedAt: '2026-01-01T00:00:00Z' });

beforeEach(() => {
  Element.prototype.scrollIntoView = vi.fn();
});
afterEach(() => vi.unstubAllGlobals());

describe('ChatPage chat list paging', () => {
  it('shows "Show older chats" while there is a next page, and appends it', async () => {
    const fetchMock = vi.fn(async (url: string) => {
      if (url === '/health/ollama') return json(200, { status: 'ok', runtime: 'url' });
      if (url === '/api/chats') return json(200, { chats: [chat('c1', 'Newest'), chat('c2', 'Newer')], nextCursor: 'page2' });
      // The page shifted meanwhile: c2 comes again and is not listed twice.
      if (url === '/api/chats?cursor=page2') return json(200, { chats: [chat('c2', 'Newer'), chat('c3', 'Oldest')], nextCursor: null });
      return json(404, { error: { code: 'not_found', message: 'Not found' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    window.history.replaceState(null, '', '/chat');
    render(
      <RouterProvider>
        <ChatPage chatId={null} />
      </RouterProvider>,
    );

    await screen.findByText('Newest');
    expect(screen.queryByText('Oldest')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Show older chats' }));

    await screen.findByText('Oldest');
    expect(fetchMock).toHaveBeenCalledWith('/api/chats?cursor=page2', expect.anything());
    expect(screen.getAllByText('Newer')).toHaveLength(1);
    // The last page: no button.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Show older chats' })).toBeNull());
  });

  it('shows no button when everything fits on one page', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/chats') return json(200, { chats: [chat('c1', 'Only')], nextCursor: null });
        return json(200, { status: 'ok', runtime: 'url' });
      }),
    );
    window.history.replaceState(null, '', '/chat');
    render(
      <RouterProvider>
        <ChatPage chatId={null} />
      </RouterProvider>,
    );
    await screen.findByText('Only');
    expect(screen.queryByRole('button', { name: 'Show older chats' })).toBeNull();
  });
});
