import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider, useRouter } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { NewNoteDialog } from './NoteEditor';

const ID = '3f0c8a5e-0000-4000-8000-000000000001';

function Page() {
  const { navigate } = useRouter();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>New note</Button>
      <NewNoteDialog
        open={open}
        onOpenChange={setOpen}
        onSaved={(item) => {
          // As the vault page does: close, then open the saved note.
          setOpen(false);
          navigate(`/vault/${item.id}`);
        }}
      />
    </>
  );
}

function show() {
  render(
    <RouterProvider>
      <Page />
    </RouterProvider>,
  );
}

async function typeNote() {
  fireEvent.click(screen.getByRole('button', { name: 'New note' }));
  fireEvent.change(await screen.findByLabelText(/Title/), { target: { value: 'Half a thought' } });
}

/** What a reload or a closed tab asks the page: true when the page asks to stay. */
function unloadIsHeld(): boolean {
  const e = new Event('beforeunload', { cancelable: true });
  window.dispatchEvent(e);
  return e.defaultPrevented;
}

beforeEach(() => window.history.replaceState(null, '', '/vault'));
afterEach(() => vi.unstubAllGlobals());

describe('leaving a half-written new note', () => {
  it('asks before a reload or a closed tab while the dialog holds typed text, and not before', async () => {
    show();
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    await screen.findByLabelText(/Title/);
    expect(unloadIsHeld()).toBe(false);
    fireEvent.change(screen.getByLabelText(/Title/), { target: { value: 'Half a thought' } });
    expect(unloadIsHeld()).toBe(true);
    fireEvent.change(screen.getByLabelText(/Title/), { target: { value: '' } });
    await waitFor(() => expect(unloadIsHeld()).toBe(false));
  });

  it('asks before Back leaves the page, and keeps the note and the page when the person stays', async () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    show();
    await typeNote();
    // Back: the browser has already changed the address when the app hears of it.
    window.history.replaceState(null, '', '/health');
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/new note is not saved/));
    expect(window.location.pathname).toBe('/vault');
    expect((screen.getByLabelText(/Title/) as HTMLInputElement).value).toBe('Half a thought');
  });

  it('lets go once the note is saved or discarded: opening the saved note asks nothing', async () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(JSON.stringify({ id: ID, kind: 'note', title: 'Half a thought' }), { status: 201, headers: { 'content-type': 'application/json' } }),
      ),
    );
    show();
    await typeNote();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(window.location.pathname).toBe(`/vault/${ID}`));
    expect(confirm).not.toHaveBeenCalled();
    await waitFor(() => expect(unloadIsHeld()).toBe(false));

    window.history.replaceState(null, '', '/vault');
    await typeNote();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Discard' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(unloadIsHeld()).toBe(false);
  });
});
