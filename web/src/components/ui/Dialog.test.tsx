import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { Dialog } from './Dialog';

function Opener() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button">Elsewhere</button>
      <button type="button" onClick={() => setOpen(true)}>
        Open it
      </button>
      <Dialog open={open} onOpenChange={setOpen} title="A dialog">
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </Dialog>
    </>
  );
}

function RowWithConfirm() {
  const [row, setRow] = useState(true);
  const [open, setOpen] = useState(false);
  return (
    <main id="main">
      <h1>Things</h1>
      {row && (
        <button type="button" onClick={() => setOpen(true)}>
          Delete thing
        </button>
      )}
      <Dialog open={open} onOpenChange={setOpen} title="Delete it?">
        <button
          type="button"
          onClick={() => {
            setRow(false);
            setOpen(false);
          }}
        >
          Delete
        </button>
      </Dialog>
    </main>
  );
}

describe('<Dialog>', () => {
  it('gives focus to the page heading, not <body>, when the control that opened it is gone', async () => {
    render(<RowWithConfirm />);
    const opener = screen.getByRole('button', { name: 'Delete thing' });
    opener.focus();
    fireEvent.click(opener);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Things' })));
  });

  it.each([
    ['Escape', () => fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' })],
    ['its own Cancel button', () => fireEvent.click(screen.getByRole('button', { name: 'Cancel' }))],
    ['the close button', () => fireEvent.click(screen.getByRole('button', { name: 'Close' }))],
  ])('gives focus back to the control that opened it when closed by %s', async (_how, close) => {
    render(<Opener />);
    const opener = screen.getByRole('button', { name: 'Open it' });
    opener.focus();
    fireEvent.click(opener);
    await screen.findByRole('dialog');
    await waitFor(() => expect(document.activeElement).not.toBe(opener));
    close();
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(document.activeElement).toBe(opener);
  });

  it('leaves focus where the page put it after the dialog closed (a shortcut focusing the search box)', async () => {
    render(<Opener />);
    const opener = screen.getByRole('button', { name: 'Open it' });
    opener.focus();
    fireEvent.click(opener);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    // Radix gives focus back a task after the dialog is gone: the page moves it first.
    const elsewhere = screen.getByRole('button', { name: 'Elsewhere' });
    elsewhere.focus();
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await new Promise((r) => setTimeout(r, 20));
    expect(document.activeElement).toBe(elsewhere);
  });
});
