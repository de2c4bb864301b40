import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../api/types';
import { EditNote } from '../features/vault/EditNote';
import { clearKeptDrafts } from '../features/vault/keptDrafts';
import { RouterProvider } from './router';
import { SessionProvider } from './session';
import { Shell } from './Shell';

const note: Item = {
  id: '3f0c8a5e-0000-4000-8000-000000000007',
  kind: 'note',
  source: 'manual',
  type: '',
  title: 'Dose',
  text: 'warfarin 5 mg',
  tags: [],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
};
const reply = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => {
  vi.unstubAllGlobals();
  clearKeptDrafts();
});

describe('signing out while a note has an edit the autosave has not sent yet', () => {
  it('saves the edit before the session ends', async () => {
    const calls: Array<{ method: string; url: string; body: unknown }> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        const method = init?.method ?? 'GET';
        calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
        if (method === 'PATCH') return reply(200, { ...note, text: 'warfarin 2.5 mg', version: 2 });
        if (url === '/api/auth/logout') return reply(204, null);
        return reply(200, note);
      }),
    );
    window.history.replaceState(null, '', `/vault/${note.id}`);
    render(
      <RouterProvider>
        <SessionProvider initialUser={{ id: 'u1', email: 'a@example.com' } as never}>
          <Shell>
            <EditNote item={note} onSaved={() => undefined} onClose={() => undefined} />
          </Shell>
        </SessionProvider>
      </RouterProvider>,
    );
    // Typed, then Sign out at once: well within the autosave pause.
    fireEvent.change(screen.getByRole('textbox', { name: 'Text (Markdown)' }), { target: { value: 'warfarin 2.5 mg' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));

    await waitFor(() => expect(calls.some((c) => c.url === '/api/auth/logout')).toBe(true));
    const saved = calls.findIndex((c) => c.method === 'PATCH' && (c.body as { text?: string }).text === 'warfarin 2.5 mg');
    expect(saved).toBeGreaterThanOrEqual(0);
    expect(saved).toBeLessThan(calls.findIndex((c) => c.url === '/api/auth/logout'));
  });
});
