import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { Link, match, RouterProvider, useRouter } from '../../app/router';
import { SessionProvider } from '../../app/session';
import { ItemPage } from './ItemPage';
import { clearKeptDrafts, peekKeptDraft } from './keptDrafts';

const ID = '3f0c8a5e-0000-4000-8000-000000000003';
const note = (version: number, text: string): Item => ({
  id: ID,
  kind: 'note',
  source: 'manual',
  type: '',
  title: 'Plan',
  text,
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version,
  folderId: null,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A stand-in server for one note: it can be stopped (every request fails as when offline). */
function fakeServer() {
  const server = { up: true, current: note(1, 'old text'), patches: [] as Array<Record<string, unknown>> };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (!server.up) throw new TypeError('Failed to fetch');
      if (url.startsWith('/api/items/') && init?.method === 'PATCH') {
        const body = JSON.parse(String(init.body)) as Record<string, unknown>;
        server.patches.push(body);
        server.current = note(server.current.version + 1, String(body.text));
        return reply(200, server.current);
      }
      if (url.startsWith('/api/items/')) return reply(200, server.current);
      return reply(200, { folders: [], items: [] });
    }),
  );
  return server;
}

/** The note's page and a stand-in vault page, switched by the app's own router. */
function Pages() {
  const { path } = useRouter();
  const params = match('/vault/:id', path);
  if (params) return <ItemPage id={params.id!} />;
  return <Link to={`/vault/${ID}`}>Open Plan</Link>;
}

const app = () =>
  render(
    <RouterProvider>
      <SessionProvider initialUser={null}>
        <Pages />
      </SessionProvider>
    </RouterProvider>,
  );

async function typeAndLeave(text: string) {
  fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: text } });
  fireEvent.click(screen.getByRole('link', { name: /Back to vault/ }));
  await screen.findByRole('link', { name: 'Open Plan' });
}

beforeEach(() => window.history.replaceState(null, '', `/vault/${ID}`));
afterEach(() => {
  vi.unstubAllGlobals();
  clearKeptDrafts();
});

describe('leaving a note right after typing', () => {
  it('sends the pending edit at once instead of dropping it with the autosave timer', async () => {
    const server = fakeServer();
    app();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    await typeAndLeave('typed just before leaving');
    await waitFor(() => expect(server.patches).toEqual([expect.objectContaining({ text: 'typed just before leaving', baseVersion: 1 })]));
    await waitFor(() => expect(peekKeptDraft(ID)).toBeUndefined());
  });

  it('keeps the edit when the server cannot be reached, and brings it back to save when the note is opened again', async () => {
    const server = fakeServer();
    app();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    server.up = false;
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'typed while the server was down' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save now' }));
    await screen.findByText('Not saved', { exact: false });
    fireEvent.click(screen.getByRole('link', { name: /Back to vault/ }));
    await screen.findByRole('link', { name: 'Open Plan' });
    await waitFor(() => expect(peekKeptDraft(ID)?.draft.text).toBe('typed while the server was down'));

    server.up = true;
    fireEvent.click(screen.getByRole('link', { name: 'Open Plan' }));
    expect(await screen.findByText('Your unsaved changes were kept; save them now')).toBeTruthy();
    expect(screen.getByTestId('kept-notice').textContent).toBe('You left this note before they could be saved.');
    expect((screen.getByLabelText('Text (Markdown)') as HTMLTextAreaElement).value).toBe('typed while the server was down');
    fireEvent.click(screen.getByRole('button', { name: 'Save now' }));
    await waitFor(() => expect(server.patches).toEqual([expect.objectContaining({ text: 'typed while the server was down', baseVersion: 1 })]));
    expect(await screen.findByText('Your kept changes are saved.')).toBeTruthy();
  });

  it('keeps an edit typed just before leaving when that send fails too', async () => {
    const server = fakeServer();
    app();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    server.up = false;
    await typeAndLeave('typed and left at once, offline');
    await waitFor(() => expect(peekKeptDraft(ID)?.draft.text).toBe('typed and left at once, offline'));
    server.up = true;
    fireEvent.click(screen.getByRole('link', { name: 'Open Plan' }));
    await screen.findByText('Your unsaved changes were kept; save them now');
    expect((screen.getByLabelText('Text (Markdown)') as HTMLTextAreaElement).value).toBe('typed and left at once, offline');
  });

  it('waits for a save still on its way, then sends only what was typed after it', async () => {
    const server = fakeServer();
    let answerFirst = () => undefined as void;
    const firstAnswered = new Promise<void>((resolve) => (answerFirst = resolve));
    const serve = vi.mocked(fetch).getMockImplementation()!;
    vi.mocked(fetch).mockImplementation(async (url, init) => {
      if (init?.method === 'PATCH' && server.patches.length === 0) await firstAnswered;
      return serve(url, init);
    });
    app();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'first part' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save now' }));
    await screen.findByText('Saving…', { exact: false });
    await typeAndLeave('first part, then more');
    answerFirst();
    await waitFor(() =>
      expect(server.patches).toEqual([
        expect.objectContaining({ text: 'first part', baseVersion: 1 }),
        expect.objectContaining({ text: 'first part, then more', baseVersion: 2 }),
      ]),
    );
    await waitFor(() => expect(peekKeptDraft(ID)).toBeUndefined());
  });

  it('asks before a reload or closing the tab while an edit is not saved', async () => {
    fakeServer();
    app();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    const before = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(before);
    expect(before.defaultPrevented).toBe(false);
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'not saved yet' } });
    const unsaved = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(unsaved);
    expect(unsaved.defaultPrevented).toBe(true);
  });
});
