import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { RecoveryKeyDialog } from './RecoveryKeyDialog';

const KEY = 'CVRK-7H2Q-XM9D-P4LA-0ZKE-33TT-W8NB-QRSX';

describe('<RecoveryKeyDialog>', () => {
  it('shows the key and only lets the user continue after acknowledging it', () => {
    const onDone = vi.fn();
    render(<RecoveryKeyDialog open recoveryKey={KEY} email="a@example.org" onDone={onDone} />);
    expect(screen.getByRole('dialog', { name: 'Save your recovery key' })).toBeTruthy();
    expect(screen.getByTestId('recovery-key').textContent).toBe(KEY);

    const cont = screen.getByRole('button', { name: 'Continue' }) as HTMLButtonElement;
    expect(cont.disabled).toBe(true);
    fireEvent.click(cont);
    expect(onDone).not.toHaveBeenCalled();

    fireEvent.click(screen.getByLabelText('I have saved my recovery key'));
    expect(cont.disabled).toBe(false);
    fireEvent.click(cont);
    expect(onDone).toHaveBeenCalledTimes(1);
  });

  it('cannot be dismissed with Escape and has no close button', () => {
    const onDone = vi.fn();
    render(<RecoveryKeyDialog open recoveryKey={KEY} email="a@example.org" onDone={onDone} />);
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.getByRole('dialog')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Close' })).toBeNull();
    expect(onDone).not.toHaveBeenCalled();
  });

  it('downloads the key as a text file', async () => {
    const created: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => {
      created.push(b);
      return 'blob:x';
    }) as typeof URL.createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    render(<RecoveryKeyDialog open recoveryKey={KEY} email="a@example.org" onDone={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Download as text file' }));
    expect(click).toHaveBeenCalled();
    expect(created[0]!.type).toMatch(/text\/plain/);
    expect(await created[0]!.text()).toContain(KEY);
    click.mockRestore();
  });

  it('copies the key to the clipboard', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(<RecoveryKeyDialog open recoveryKey={KEY} email="a@example.org" onDone={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith(KEY);
    expect(await screen.findByText('Recovery key copied to the clipboard.')).toBeTruthy();
  });
});
