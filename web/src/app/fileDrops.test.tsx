import { createEvent, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forgetUploadLimit } from '../api/upload';
import { App } from './App';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Records what the vault would upload; never answers. */
class FakeXhr {
  static sent: Array<{ url: string; body: FormData }> = [];
  private url = '';
  upload = {};
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader() {}
  send(body: FormData) {
    FakeXhr.sent.push({ url: this.url, body });
  }
  abort() {}
}

function openVault() {
  FakeXhr.sent = [];
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/auth/me') return reply(200, { user: { id: 'u1', email: 'a@example.com' } });
      if (url === '/api/limits') return reply(200, { maxUploadBytes: 1 << 20 });
      if (url.startsWith('/api/items')) return reply(200, { items: [], nextCursor: null });
      if (url.startsWith('/api/folders')) return reply(200, { folders: [] });
      if (url.startsWith('/api/tags')) return reply(200, { tags: [] });
      return reply(200, {});
    }),
  );
  window.history.replaceState(null, '', '/vault');
  render(<App />);
}

/** A drag of one file from the desktop, as the browser describes it. */
function fileDrag(file: File) {
  return { dataTransfer: { types: ['Files'], files: [file], dropEffect: 'none' } };
}

afterEach(() => {
  vi.unstubAllGlobals();
  forgetUploadLimit();
});

describe('a file dropped on the app', () => {
  it('is not opened by the browser when dropped outside the vault’s drop zone', async () => {
    openVault();
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    const file = new File(['hello'], 'notes.txt', { type: 'text/plain' });

    const over = createEvent.dragOver(nav, fileDrag(file));
    fireEvent(nav, over);
    expect(over.defaultPrevented).toBe(true);
    expect((over as unknown as { dataTransfer: DataTransfer }).dataTransfer.dropEffect).toBe('none');

    const drop = createEvent.drop(nav, fileDrag(file));
    fireEvent(nav, drop);
    expect(drop.defaultPrevented).toBe(true);
    expect(FakeXhr.sent).toHaveLength(0);
  });

  it('still reaches the vault’s drop zone, which uploads it', async () => {
    openVault();
    const heading = await screen.findByRole('heading', { level: 1, name: 'Vault' });
    const file = new File(['hello'], 'notes.txt', { type: 'text/plain' });

    const over = createEvent.dragOver(heading, fileDrag(file));
    fireEvent(heading, over);
    expect(over.defaultPrevented).toBe(true);
    expect((over as unknown as { dataTransfer: DataTransfer }).dataTransfer.dropEffect).toBe('copy');

    const drop = createEvent.drop(heading, fileDrag(file));
    fireEvent(heading, drop);
    expect(drop.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(FakeXhr.sent).toHaveLength(1));
    expect(FakeXhr.sent[0]!.url).toBe('/api/files');
    expect(FakeXhr.sent[0]!.body.get('file')).toMatchObject({ name: 'notes.txt' });
  });

  it('leaves drags without files to the page (text into a field, an item onto a folder)', async () => {
    openVault();
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    const over = createEvent.dragOver(nav, { dataTransfer: { types: ['text/plain'], files: [] } });
    fireEvent(nav, over);
    expect(over.defaultPrevented).toBe(false);
  });
});
