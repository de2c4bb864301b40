import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../api/types';
import { RouterProvider } from '../../app/router';
import { ItemPage } from './ItemPage';
import { dropKeptDraft, keepDraft } from './keptDrafts';

const ID = '3f0c8a5e-0000-4000-8000-000000000009';
const note = (over: Partial<Item> = {}): Item => ({
  id: ID,
  kind: 'note',
  source: 'manual',
  type: '',
  title: 'Trip',
  text: 'flights',
  tags: ['travel', 'work'],
  occurredAt: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 1,
  folderId: null,
  ...over,
});
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

/** The item page on a server that stores what it is sent. */
function show() {
  let current = note();
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith('/api/folders')) return reply(200, { folders: [] });
      if (init?.method === 'PATCH') current = { ...current, ...(JSON.parse(String(init.body)) as Partial<Item>), version: current.version + 1 };
      return reply(200, current);
    }),
  );
  render(
    <RouterProvider>
      <main id="main" tabIndex={-1}>
        <ItemPage id={ID} />
      </main>
    </RouterProvider>,
  );
}

describe('<ItemPage> focus', () => {
  it('starts at the item’s heading when it opens with focus nowhere', async () => {
    show();
    const heading = await screen.findByRole('heading', { name: 'Trip' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });

  it('moves focus to the next tag after removing one, and to "Add a tag" after the last', async () => {
    show();
    const first = await screen.findByRole('button', { name: 'Remove tag travel' });
    first.focus();
    fireEvent.click(first);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Remove tag work' })));
    fireEvent.click(screen.getByRole('button', { name: 'Remove tag work' }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Add a tag' })));
  });

  it('keeps focus on Save now after the save, and returns it to Edit when the editor closes', async () => {
    show();
    const edit = await screen.findByRole('button', { name: 'Edit' });
    edit.focus();
    fireEvent.click(edit);
    fireEvent.change(screen.getByLabelText('Text (Markdown)'), { target: { value: 'flights 9:40' } });
    const saveNow = screen.getByRole('button', { name: 'Save now' });
    saveNow.focus();
    fireEvent.click(saveNow);
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('version 2'));
    // Nothing left to save, yet not `disabled`: browsers drop focus from a control that becomes
    // disabled (jsdom does not, so this asks for the attribute itself).
    expect(saveNow.getAttribute('aria-disabled')).toBe('true');
    expect(saveNow.matches(':disabled')).toBe(false);
    expect(document.activeElement).toBe(saveNow);

    const done = screen.getByRole('button', { name: 'Done' });
    done.focus();
    fireEvent.click(done);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Edit' })));
  });

  it('moves focus into the editor when Edit is pressed (the Edit button goes with it)', async () => {
    show();
    const edit = await screen.findByRole('button', { name: 'Edit' });
    edit.focus();
    fireEvent.click(edit);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('textbox', { name: /Title/ })));
  });

  it('does not pull focus into an editor that reopens by itself (a kept edit): the heading starts the page', async () => {
    keepDraft(ID, {
      draft: { title: 'Trip', text: 'flights 9:40', tags: ['travel', 'work'] },
      base: { title: 'Trip', text: 'flights', tags: ['travel', 'work'] },
      baseVersion: 1,
    });
    try {
      show();
      const heading = await screen.findByRole('heading', { name: 'Trip' });
      await screen.findByLabelText('Text (Markdown)');
      await waitFor(() => expect(document.activeElement).toBe(heading));
    } finally {
      dropKeptDraft(ID);
    }
  });
});

describe('<ItemPage> window title', () => {
  it('names the kind of item, never its title (window titles reach screen sharing and history)', async () => {
    show();
    await screen.findByRole('heading', { name: 'Trip' });
    await waitFor(() => expect(document.title).toBe('Note · Context Vault'));
    expect(document.title).not.toContain('Trip');
  });
});
