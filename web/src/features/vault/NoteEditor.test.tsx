import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { NewNoteDialog, tagProblem } from './NoteEditor';

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

describe('tags in the note forms', () => {
  it('counts characters as the server does, after NFKC', () => {
    expect(tagProblem(['y'.repeat(64), '🩺 health'])).toBeNull();
    expect(tagProblem(['x'.repeat(65)])).toMatch(/too long\. A tag can have at most 64 characters/);
    // U+FDFA is one character that NFKC turns into 18.
    expect(tagProblem(['\uFDFA'.repeat(4)])).toMatch(/too long/);
  });

  it('explains a tag over 64 characters in the form and does not send it', async () => {
    const fetchMock = vi.fn(async () => new Response('{}', { status: 201 }));
    vi.stubGlobal('fetch', fetchMock);
    render(<Page />);
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    fireEvent.change(await screen.findByLabelText(/Title/), { target: { value: 'Insurance' } });
    fireEvent.change(screen.getByLabelText(/Tags/), { target: { value: `health, ${'x'.repeat(300)}` } });
    expect(screen.getByText(/The tag “xxxxxxxxxxxxxxxxxxxx…” is too long/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe('closing a half-written new note', () => {
  it('asks before throwing typed text away, and keeps it when the person says so', async () => {
    render(<Page />);
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    fireEvent.change(await screen.findByLabelText(/Title/), { target: { value: 'Half a thought' } });
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(await screen.findByRole('dialog', { name: 'Discard this note?' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Keep writing' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Discard this note?' })).toBeNull());
    expect((screen.getByLabelText(/Title/) as HTMLInputElement).value).toBe('Half a thought');

    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Discard' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('closes an empty new note at once', async () => {
    render(<Page />);
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    await screen.findByLabelText(/Title/);
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});
