import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Notice } from '../../components/ui/Feedback';
import { ApiTokens } from './ApiTokens';
import { ExportVault } from './SettingsPage';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('export passphrase', () => {
  it('is asked twice, and a mismatch is refused before anything is sent', async () => {
    const fetchMock = vi.fn(async () => json(200, {}));
    vi.stubGlobal('fetch', fetchMock);
    render(<ExportVault />);
    fireEvent.change(screen.getByLabelText('Export passphrase'), { target: { value: 'violet harbor quietly' } });
    fireEvent.change(screen.getByLabelText('Export passphrase again'), { target: { value: 'violet harbour quietly' } });
    fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    expect(await screen.findByText(/The two passphrases do not match/)).toBeTruthy();
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe('copy token', () => {
  async function created() {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) =>
        url === '/api/tokens' && init?.method === 'POST' ? json(201, { id: 't1', token: 'cvt_SECRET', expiresAt: null }) : json(200, { tokens: [] }),
      ),
    );
    render(<ApiTokens />);
    fireEvent.change(await screen.findByLabelText('Token name'), { target: { value: 'backup' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    await screen.findByTestId('new-token');
  }

  it('says "Copied" once the token is on the clipboard', async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    await created();
    fireEvent.click(screen.getByRole('button', { name: 'Copy token' }));
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeTruthy();
    expect(writeText).toHaveBeenCalledWith('cvt_SECRET');
    expect(screen.getByText('Token copied to the clipboard.')).toBeTruthy();
  });

  it('says when copying failed', async () => {
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText: vi.fn(async () => Promise.reject(new Error('denied'))) } });
    await created();
    fireEvent.click(screen.getByRole('button', { name: 'Copy token' }));
    expect(await screen.findByText(/Copying failed/)).toBeTruthy();
  });
});

describe('<Notice>', () => {
  it('announces a success (role="status")', () => {
    render(<Notice tone="success">Passphrase changed.</Notice>);
    expect(screen.getByRole('status').textContent).toBe('Passphrase changed.');
  });
});
