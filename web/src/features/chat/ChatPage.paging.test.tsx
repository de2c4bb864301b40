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

  it('keeps the older chats it paged in when the list reloads after an answer', async () => {
    let first = [chat('c1', 'Newest'), chat('c2', 'Newer')];
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/health/ollama') return json(200, { status: 'ok', runtime: 'url' });
      if (url === '/api/chats') return json(200, { chats: first, nextCursor: 'page2' });
      if (url === '/api/chats?cursor=page2') return json(200, { chats: [chat('c3', 'Older'), chat('c4', 'Oldest')], nextCursor: 'page3' });
      if (url === '/api/chats/c4') return json(200, { id: 'c4', messages: [] });
      if (url === '/api/chat' && init?.method === 'POST') {
        // The answered chat moves to the top of the first page.
        first = [chat('c4', 'Oldest'), chat('c1', 'Newest')];
        const body = 'event: sources\ndata: {"sources":[]}\n\nevent: token\ndata: {"text":"Yes."}\n\nevent: done\ndata: {"chatId":"c4","messageId":"m1"}\n\n';
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }
      return json(404, { error: { code: 'not_found', message: 'Not found' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    window.history.replaceState(null, '', '/chat/c4');
    render(
      <RouterProvider>
        <ChatPage chatId="c4" />
      </RouterProvider>,
    );
    await screen.findByText('Newest');
    fireEvent.click(screen.getByRole('button', { name: 'Show older chats' }));
    await screen.findByText('Older');

    fireEvent.change(screen.getByRole('textbox'), { target: { value: 'Anything new?' } });
    fireEvent.click(screen.getByRole('button', { name: /send/i }));
    await screen.findByText('Yes.');
    await waitFor(() => expect(fetchMock.mock.calls.filter(([u]) => u === '/api/chats')).toHaveLength(2));

    // Every chat listed once, the answered one first; c2 fell off the first page but stays, and
    // the next older page is still offered.
    for (const title of ['Newest', 'Newer', 'Older']) expect(screen.getAllByText(title)).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Show older chats' })).toBeTruthy();
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
