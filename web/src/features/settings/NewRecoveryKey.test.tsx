import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NewRecoveryKey } from './NewRecoveryKey';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const KEY = 'CV1-7H2Q-XM9D-P4LA-0ZKE-33TT-W8NB-QRSX';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<NewRecoveryKey>', () => {
  it('asks for the passphrase, then shows the new key in the must-acknowledge dialog', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => json(200, { recoveryKey: KEY }));
    vi.stubGlobal('fetch', fetchMock);
    render(<NewRecoveryKey email="a@example.org" />);

    fireEvent.click(screen.getByRole('button', { name: 'Create a new recovery key…' }));
    const create = screen.getByRole('button', { name: 'Create new key' }) as HTMLButtonElement;
    expect(create.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Your passphrase'), { target: { value: 'my passphrase here' } });
    fireEvent.click(create);

    expect(await screen.findByRole('dialog', { name: 'Save your recovery key' })).toBeTruthy();
    expect(screen.getByTestId('recovery-key').textContent).toBe(KEY);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/auth/recovery-key');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toEqual({ passphrase: 'my passphrase here' });

    fireEvent.click(screen.getByLabelText('I have saved my recovery key'));
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByText('Your new recovery key is active. The old one no longer works.')).toBeTruthy();
  });

  it('shows a wrong passphrase and keeps the old key', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(401, { error: { code: 'invalid_credentials', message: 'The passphrase is incorrect.' } })),
    );
    render(<NewRecoveryKey email="a@example.org" />);
    fireEvent.click(screen.getByRole('button', { name: 'Create a new recovery key…' }));
    fireEvent.change(screen.getByLabelText('Your passphrase'), { target: { value: 'wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create new key' }));
    expect(await screen.findByText('The passphrase is incorrect.')).toBeTruthy();
    expect(screen.queryByTestId('recovery-key')).toBeNull();
  });
});
