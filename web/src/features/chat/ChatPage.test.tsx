import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { ChatPage } from './ChatPage';

const enc = new TextEncoder();

interface Stream {
  push: (s: string) => void;
  close: () => void;
  aborted: () => boolean;
}

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function setup(opts: { ollama?: 'ok' | 'offline'; health?: Record<string, unknown>; chat?: (signal: AbortSignal) => Response } = {}) {
  const streams: Stream[] = [];
  const fetchMock = vi.fn(async (url: string, init: RequestInit = {}) => {
    if (url === '/health/ollama') return json(200, opts.health ?? { status: opts.ollama ?? 'ok', runtime: 'url' });
    if (url === '/api/chats') return json(200, { chats: [] });
    if (url === '/api/chat') {
      const signal = init.signal!;
      if (opts.chat) return opts.chat(signal);
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      let aborted = false;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          ctl = c;
        },
      });
      signal.addEventListener('abort', () => {
        aborted = true;
        ctl.error(new DOMException('The operation was aborted.', 'AbortError'));
      });
      streams.push({ push: (s) => ctl.enqueue(enc.encode(s)), close: () => ctl.close(), aborted: () => aborted });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    return json(404, { error: { code: 'not_found', message: 'Not found' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  window.history.replaceState(null, '', '/chat');
  render(
    <RouterProvider>
      <ChatPage chatId={null} />
    </RouterProvider>,
  );
  return { fetchMock, streams };
}

beforeEach(() => {
  Element.prototype.scrollIntoView = vi.fn();
});
afterEach(() => vi.unstubAllGlobals());

async function ask(text: string) {
  fireEvent.change(screen.getByLabelText('Message'), { target: { value: text } });
  fireEvent.click(screen.getByRole('button', { name: 'Send' }));
}

describe('<ChatPage>', () => {
  it('streams the answer in, shows source chips linking to the items, and stores the chat id in the URL', async () => {
    const { streams, fetchMock } = setup();
    await ask('What was my LDL?');
    await waitFor(() => expect(streams).toHaveLength(1));
    const body = JSON.parse(fetchMock.mock.calls.find((c) => c[0] === '/api/chat')![1]!.body as string);
    expect(body).toEqual({ message: 'What was my LDL?' });
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();

    await act(async () => {
      streams[0]!.push('event: sources\ndata: {"sources":[{"n":1,"itemId":"item-7","title":"Lipid panel","kind":"record","occurredAt":"2026-03-01"}]}\n\n');
      streams[0]!.push('event: token\ndata: {"text":"Your **LDL** "}\n\nevent: tok');
      streams[0]!.push('en\ndata: {"text":"was 96 [1]."}\n\n');
    });
    await screen.findByText('LDL');
    expect(screen.getByTestId('assistant-message').textContent).toContain('Your LDL was 96 [1].');
    const chip = screen.getByTestId('source-chip');
    expect(chip.getAttribute('href')).toBe('/vault/item-7');
    expect(chip.textContent).toContain('Lipid panel');

    await act(async () => {
      streams[0]!.push('event: done\ndata: {"chatId":"chat-1","messageId":"m-1"}\n\n');
      streams[0]!.close();
    });
    await waitFor(() => expect(window.location.pathname).toBe('/chat/chat-1'));
    expect(screen.getByRole('button', { name: 'Send' })).toBeTruthy();
  });

  it('Stop aborts the request and keeps what arrived so far', async () => {
    const { streams } = setup();
    await ask('Summarise my year');
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => streams[0]!.push('event: token\ndata: {"text":"Partial answer"}\n\n'));
    await screen.findByText('Partial answer');
    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    await screen.findByText('Stopped.');
    expect(streams[0]!.aborted()).toBe(true);
    expect(screen.getByText('Partial answer')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send' })).toBeTruthy();
  });

  it('opens a saved conversation (under StrictMode, as in the app)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/chats/c9')
          return json(200, {
            id: 'c9',
            title: 'Old',
            messages: [
              { role: 'user', text: 'Earlier question', sources: [], createdAt: '2026-01-01T00:00:00Z' },
              {
                role: 'assistant',
                text: 'Earlier *answer*',
                sources: [{ n: 1, itemId: 'i1', title: 'Note', kind: 'note', occurredAt: null }],
                createdAt: '2026-01-01T00:00:01Z',
              },
            ],
          });
        if (url === '/api/chats') return json(200, { chats: [{ id: 'c9', title: 'Old', updatedAt: '2026-01-01T00:00:01Z' }] });
        return json(200, { status: 'ok' });
      }),
    );
    window.history.replaceState(null, '', '/chat/c9');
    render(
      <StrictMode>
        <RouterProvider>
          <ChatPage chatId="c9" />
        </RouterProvider>
      </StrictMode>,
    );
    await screen.findByText('Earlier question');
    expect(screen.getByText('answer').closest('em')).toBeTruthy();
    expect(screen.getByTestId('source-chip').getAttribute('href')).toBe('/vault/i1');
  });

  it('shows the AI offline banner from /health/ollama', async () => {
    setup({ ollama: 'offline' });
    await screen.findByText('AI offline');
  });

  it('says the AI is not set up (not "try again later") and does not send when the server has no runtime', async () => {
    const { fetchMock } = setup({ health: { status: 'offline', runtime: 'none' } });
    await screen.findByText('AI not set up on this server');
    const banner = screen.getByTestId('ai-offline');
    expect(banner.textContent).toContain('SANDBOX_RUNTIME');
    expect(banner.textContent).toContain('OLLAMA_URL');
    expect(banner.textContent).not.toMatch(/later|right now/);
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'hello' } });
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.keyDown(screen.getByLabelText('Message'), { key: 'Enter' });
    expect(fetchMock.mock.calls.some((c) => c[0] === '/api/chat')).toBe(false);
    // The typed question stays.
    expect((screen.getByLabelText('Message') as HTMLTextAreaElement).value).toBe('hello');
  });

  it('keeps "try again later" for a runtime that is only offline for now', async () => {
    setup({ health: { status: 'offline', runtime: 'docker' } });
    await screen.findByText('AI offline');
    expect(screen.getByTestId('ai-offline').textContent).toContain('try chatting again later');
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'hello' } });
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows the AI offline banner and the server message when chat answers 503 ai_offline', async () => {
    setup({ chat: () => json(503, { error: { code: 'ai_offline', message: 'The AI is offline right now.' } }) });
    await ask('hello');
    await screen.findByText('The AI is offline right now.');
    expect(screen.getByTestId('ai-offline')).toBeTruthy();
  });

  it('shows an error event from the stream inline', async () => {
    const { streams } = setup();
    await ask('hello');
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => {
      streams[0]!.push('event: error\ndata: {"code":"model_failed","message":"The model stopped unexpectedly."}\n\n');
      streams[0]!.close();
    });
    await screen.findByText('The model stopped unexpectedly.');
  });

  it('says "No model pulled" and what to run when /health/ollama says so', async () => {
    const message = 'No model pulled: llama3.1:8b is not in the models directory. Run `npm run models -- pull llama3.1:8b`.';
    setup({ health: { status: 'offline', runtime: 'docker', code: 'no_model', message } });
    await screen.findByText('No model pulled');
    expect(screen.getByText(message)).toBeTruthy();
    expect(screen.queryByText('AI offline')).toBeNull();
  });

  it('shows the no-model banner when a chat answers 503 no_model', async () => {
    const message = 'No model pulled: llama3.1:8b is not in the models directory.';
    setup({ chat: () => json(503, { error: { code: 'no_model', message } }) });
    await ask('hello');
    await screen.findByText('No model pulled');
    expect(screen.getByTestId('ai-offline').textContent).toContain(message);
  });

  it('marks an answer that reached its length limit as cut off', async () => {
    const { streams } = setup();
    await ask('hello');
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => {
      streams[0]!.push('event: token\ndata: {"text":"a long answer"}\n\n');
      streams[0]!.push('event: done\ndata: {"chatId":"c1","messageId":"m1","cutOff":true}\n\n');
      streams[0]!.close();
    });
    await screen.findByText(/Cut off: the answer reached its length limit/);
  });
});

describe('<ChatPage> structure for screen readers', () => {
  it('keeps a page heading while the first answer streams and after it fails', async () => {
    const { streams } = setup();
    expect(screen.getByRole('heading', { level: 1 })).toBeTruthy();
    await ask('hello');
    await waitFor(() => expect(streams).toHaveLength(1));
    expect(screen.getByRole('heading', { level: 1 })).toBeTruthy();
    await act(async () => {
      streams[0]!.push('event: error\ndata: {"code":"model_failed","message":"The model stopped unexpectedly."}\n\n');
      streams[0]!.close();
    });
    await screen.findByText('The model stopped unexpectedly.');
    expect(screen.getByRole('heading', { level: 1 })).toBeTruthy();
  });

  it('says an answer’s error once: by the polite message list it is in, not also as an alert', async () => {
    const { streams } = setup();
    await ask('hello');
    await waitFor(() => expect(streams).toHaveLength(1));
    await act(async () => {
      streams[0]!.push('event: error\ndata: {"code":"model_failed","message":"The model stopped unexpectedly."}\n\n');
      streams[0]!.close();
    });
    const error = await screen.findByText('The model stopped unexpectedly.');
    const list = error.closest('[aria-live="polite"]')!;
    expect(list).toBeTruthy();
    // An alert inside the polite list is announced twice: as an alert, and as the list's addition.
    expect(list.querySelector('[role="alert"], [aria-live="assertive"]')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('names the page in the window title without the conversation’s title', () => {
    setup();
    expect(document.title).toBe('Chat · Context Vault');
  });
});
