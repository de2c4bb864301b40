import { act, fireEvent, render, renderHook, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { Button } from '../../components/ui/Button';
import type { Item } from '../../api/types';
import { MAX_NOTE_CHARS, NewNoteDialog } from './NoteEditor';
import { useNoteDraft } from './useNoteDraft';

afterEach(() => vi.unstubAllGlobals());

function Page() {
  // The dialog asks before the page is left, through the router.
  return (
    <RouterProvider>
      <Opener />
    </RouterProvider>
  );
}

function Opener() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>New note</Button>
      <NewNoteDialog open={open} onOpenChange={setOpen} onSaved={() => setOpen(false)} />
    </>
  );
}

describe('a note over the length limit', () => {
  it('says the limit and how long the text is, instead of "the request body is too large"', async () => {
    const fetchMock = vi.fn(
      async () => new Response(JSON.stringify({ error: { code: 'too_large', message: 'The request body is too large.' } }), { status: 413 }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<Page />);
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    fireEvent.change(await screen.findByLabelText(/Title/), { target: { value: 'Pasted log' } });
    fireEvent.change(screen.getByLabelText(/^Text/), { target: { value: 'x'.repeat(2 * 1024 * 1024) } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('The text is too long: a note can have at most 1,000,000 characters, and this one has 2,097,152.')).toBeTruthy();
    expect(fetchMock).not.toHaveBeenCalled();
    // The typed text stays, to be shortened.
    expect((screen.getByLabelText(/^Text/) as HTMLTextAreaElement).value.length).toBe(2 * 1024 * 1024);
  });

  it('takes a note of exactly the limit', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: 'n1' }), { status: 201, headers: { 'content-type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    render(<Page />);
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    fireEvent.change(await screen.findByLabelText(/Title/), { target: { value: 'Long' } });
    fireEvent.change(screen.getByLabelText(/^Text/), { target: { value: 'x'.repeat(MAX_NOTE_CHARS) } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
  });

  it('in the editor, says the limit with a thousands separator and sends nothing', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response('{}', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const note: Item = {
      id: '3f0c8a5e-0000-4000-8000-000000000009',
      kind: 'note',
      source: 'manual',
      type: '',
      title: 'Long',
      text: 'x'.repeat(MAX_NOTE_CHARS),
      tags: [],
      occurredAt: null,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      version: 1,
      folderId: null,
    };
    const onSaved = () => undefined;
    const { result } = renderHook(() => useNoteDraft(note, onSaved));
    act(() => result.current.setDraft((d) => ({ ...d, text: `${d.text}y` })));
    await act(() => result.current.save());
    expect(result.current.state).toBe('error');
    expect((result.current.error as Error).message).toBe('The text is too long: a note can have at most 1,000,000 characters, and this one has 1,000,001.');
    expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'PATCH')).toBe(false);
  });
});
