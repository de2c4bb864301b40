import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { SessionProvider } from '../../app/session';
import { SignIn } from '../auth/SignIn';
import { ItemPage } from './ItemPage';
import { clearKeptDrafts } from './keptDrafts';

const ID = '3f0c8a5e-0000-4000-8000-000000000002';
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

afterEach(() => {
  vi.unstubAllGlobals();
  clearKeptDrafts();
});

const page = () =>
  render(
    <RouterProvider>
      <SessionProvider initialUser={null}>
        <ItemPage id={ID} />
      </SessionProvider>
    </RouterProvider>,
  );

describe('an edit made after the session ended', () => {
  it('is kept in memory across signing in again and put back in the editor', async () => {
    let signedIn = false;
    const patches: Array<Record<string, unknown>> = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.startsWith('/api/items/') && init?.method === 'PATCH') {
          if (!signedIn) return reply(401, { error: { code: 'unauthorized', message: 'Sign in.' } });
          const body = JSON.parse(String(init.body)) as Record<string, unknown>;
          patches.push(body);
          return reply(200, note(2, String(body.text)));
        }
        if (url.startsWith('/api/items/')) return reply(200, note(1, 'old text'));
        return reply(200, { folders: [] });
      }),
    );
    const first = page();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'typed after the session ended' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save now' }));
    await screen.findByText('Not saved', { exact: false });
    first.unmount();

    render(
      <RouterProvider>
        <SessionProvider initialUser={null}>
          <SignIn />
        </SessionProvider>
      </RouterProvider>,
    );
    expect(screen.getByText('Your unsaved changes are kept')).toBeTruthy();
    expect(screen.getByText(/They are kept in this tab only: sign in again to save them/)).toBeTruthy();
    expect(JSON.stringify(window.localStorage) + JSON.stringify(window.sessionStorage)).not.toContain('typed after');

    signedIn = true;
    page();
    expect(await screen.findByText('Your unsaved changes were kept; save them now')).toBeTruthy();
    expect((screen.getByLabelText('Text (Markdown)') as HTMLTextAreaElement).value).toBe('typed after the session ended');
    fireEvent.click(screen.getByRole('button', { name: 'Save now' }));
    await waitFor(() => expect(patches).toEqual([expect.objectContaining({ text: 'typed after the session ended', baseVersion: 1 })]));
    expect(await screen.findByText('Your kept changes are saved.')).toBeTruthy();
  });
});
