import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Link, RouterProvider, useRouter } from '../../app/router';
import { ChatPage } from './ChatPage';

const enc = new TextEncoder();

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const CHATS = [{ id: 'c1', title: 'Blood test questions', updatedAt: '2026-01-01T00:00:00Z' }];

/** The app in small: the chat page, or a stand-in for any other page, with a link out. */
function Pages() {
  const { path } = useRouter();
  return (
    <>
      <Link to="/vault">Vault</Link>
      {path.startsWith('/chat') ? <ChatPage chatId={null} /> : <p>Vault page</p>}
    </>
  );
}

function setup(opts: { chat?: () => Response; del?: () => Response } = {}) {
  const streams: { push: (s: string) => void; aborted: () => boolean }[] = [];
  const fetchMock = vi.fn(async (url: string, init: RequestInit = {}) => {
    if (url === '/health/ollama') return json(200, { status: 'ok' });
    if (url === '/api/chats') return json(200, { chats: CHATS });
    if (url === '/api/chats/c1' && init.method === 'DELETE') return opts.del ? opts.del() : new Response(null, { status: 204 });
    if (url === '/api/chat') {
      if (opts.chat) return opts.chat();
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      let aborted = false;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
      init.signal!.addEventListener('abort', () => {
        aborted = true;
        ctl.error(new DOMException('The operation was aborted.', 'AbortError'));
      });
      streams.push({ push: (s) => ctl.enqueue(enc.encode(s)), aborted: () => aborted });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    return json(404, { error: { code: 'not_found', message: 'Not found' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  window.history.replaceState(null, '', '/chat');
  render(
    <RouterProvider>
      <Pages />
    </RouterProvider>,
  );
  return { fetchMock, streams };
}

const box = () => screen.getByLabelText('Message') as HTMLTextAreaElement;
const type = (text: string) => fireEvent.change(box(), { target: { value: text } });

beforeEach(() => {
  Element.prototype.scrollIntoView = vi.fn();
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<ChatPage> layout', () => {
  it('gives its columns a zero minimum width, so a long title cannot widen the page on a phone', async () => {
    setup();
    const aside = await screen.findByRole('complementary', { name: 'Conversations' });
    expect(aside.parentElement!.className).toContain('grid-cols-[minmax(0,1fr)]');
    expect(aside.className).toContain('min-w-0');
  });
});

describe('<ChatPage> message length', () => {
  it('counts characters near the limit, and refuses to send a message over it', async () => {
    const { fetchMock } = setup();
    type('a'.repeat(3500));
    expect(screen.getByText('3,500 of 4,000 characters')).toBeTruthy();
    type('a'.repeat(4001));
    expect(screen.getByText(/Too long to send: 4,001 of 4,000 characters\. Shorten it by 1\./)).toBeTruthy();
    const send = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(fetchMock.mock.calls.some((c) => c[0] === '/api/chat')).toBe(false);
    expect(box().value).toHaveLength(4001);
  });

  it('gives the text back and shows no AI bubble when the server refuses the message', async () => {
    setup({ chat: () => json(400, { error: { code: 'validation_failed', message: 'message: Too big: expected string to have <=4000 characters' } }) });
    type('What was my LDL?');
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await screen.findByText('That message could not be sent. Messages can be up to 4,000 characters.');
    expect(box().value).toBe('What was my LDL?');
    expect(screen.queryByTestId('assistant-message')).toBeNull();
    expect(screen.queryByTestId('user-message')).toBeNull();
    expect(screen.queryByText(/Too big/)).toBeNull();
  });

  it('gives the text back when the server cannot be reached', async () => {
    setup({
      chat: () => {
        throw new TypeError('Failed to fetch');
      },
    });
    type('hello');
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await screen.findByText(/Could not reach Context Vault/);
    expect(box().value).toBe('hello');
  });
});

describe('<ChatPage> deleting a conversation', () => {
  it('asks first, and Cancel deletes nothing', async () => {
    const { fetchMock } = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'Delete conversation Blood test questions' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete this conversation?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(fetchMock.mock.calls.some((c) => (c[1] as RequestInit | undefined)?.method === 'DELETE')).toBe(false);
    expect(screen.getByText('Blood test questions')).toBeTruthy();
  });

  it('deletes after confirming', async () => {
    const { fetchMock } = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'Delete conversation Blood test questions' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByText('Blood test questions')).toBeNull());
    expect(fetchMock.mock.calls.some((c) => c[0] === '/api/chats/c1' && (c[1] as RequestInit).method === 'DELETE')).toBe(true);
  });

  it('says so when the delete fails, and keeps the conversation listed', async () => {
    setup({ del: () => json(500, { error: { code: 'internal', message: 'Something went wrong on the server. Please try again.' } }) });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete conversation Blood test questions' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await within(dialog).findByText('Something went wrong on the server. Please try again.')).toBeTruthy();
    expect(screen.getAllByText('Blood test questions').length).toBeGreaterThan(0);
  });
});

describe('<ChatPage> leaving while an answer is written', () => {
  async function streaming() {
    const ctx = setup();
    type('Summarise my year');
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(ctx.streams).toHaveLength(1));
    await act(async () => ctx.streams[0]!.push('event: token\ndata: {"text":"Partial"}\n\n'));
    await screen.findByText('Partial');
    return ctx;
  }

  it('asks before following a link, and staying keeps the answer going', async () => {
    const { streams } = await streaming();
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    fireEvent.click(screen.getByRole('link', { name: 'Vault' }));
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/answer is still being written/));
    expect(window.location.pathname).toBe('/chat');
    expect(streams[0]!.aborted()).toBe(false);
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();
  });

  it('leaves when the user agrees', async () => {
    await streaming();
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    fireEvent.click(screen.getByRole('link', { name: 'Vault' }));
    await screen.findByText('Vault page');
    expect(window.location.pathname).toBe('/vault');
  });

  it('asks before Back, and staying puts the chat address back', async () => {
    await streaming();
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    window.history.replaceState(null, '', '/vault');
    act(() => void window.dispatchEvent(new PopStateEvent('popstate')));
    expect(confirm).toHaveBeenCalled();
    expect(window.location.pathname).toBe('/chat');
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();
  });

  it('asks the browser to confirm a reload or closing the tab, only while streaming', async () => {
    await streaming();
    const during = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(during);
    expect(during.defaultPrevented).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    await screen.findByRole('button', { name: 'Send' });
    const after = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(after);
    expect(after.defaultPrevented).toBe(false);
  });
});
