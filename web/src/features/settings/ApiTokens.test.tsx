import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiTokens } from './ApiTokens';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<ApiTokens>', () => {
  it('creates a token with the chosen name, scopes and expiry, shows it once, lists and revokes it', async () => {
    let list: unknown[] = [];
    const bodies: unknown[] = [];
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/tokens' && init?.method === 'POST') {
        bodies.push(JSON.parse(String(init.body)));
        list = [{ id: 't1', name: 'backup', scopes: ['read', 'chat'], createdAt: '2026-12-05T10:00:00Z', lastUsedAt: null, expiresAt: '2027-01-04T10:00:00Z' }];
        return json(201, { id: 't1', token: 'cvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', expiresAt: '2027-01-04T10:00:00Z' });
      }
      if (url === '/api/tokens/t1' && init?.method === 'DELETE') {
        list = [];
        return new Response(null, { status: 204 });
      }
      return json(200, { tokens: list });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(<ApiTokens />);
    fireEvent.change(await screen.findByLabelText('Token name'), { target: { value: ' backup ' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /Chat/ }));
    fireEvent.change(screen.getByLabelText('Expires after'), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect((await screen.findByTestId('new-token')).textContent).toBe('cvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(bodies).toEqual([{ name: 'backup', scopes: ['read', 'chat'], expiresInDays: 30 }]);
    expect(await screen.findByText('Never used', { exact: false })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Revoke backup' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke token' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Revoke backup' })).toBeNull());
  });

  it('asks before revoking a token, and Cancel keeps it', async () => {
    const token = {
      id: 't1',
      name: 'nightly script',
      scopes: ['read'],
      createdAt: '2026-12-05T10:00:00Z',
      lastUsedAt: null,
      expiresAt: '2099-01-04T10:00:00Z',
    };
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) =>
      init?.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { tokens: [token] }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<ApiTokens />);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke nightly script' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('Revoke “nightly script”?');
    expect(dialog.textContent).toContain('stop working at once');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false);
    expect(screen.getByRole('button', { name: 'Revoke nightly script' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Revoke nightly script' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke token' }));
    await waitFor(() => expect(fetchMock.mock.calls.some(([url, init]) => url === '/api/tokens/t1' && init?.method === 'DELETE')).toBe(true));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Revoke nightly script' })).toBeNull());
  });

  it('moves focus to the next token after a revoke, and to the name field after the last', async () => {
    const token = (id: string, name: string) => ({
      id,
      name,
      scopes: ['read'],
      createdAt: '2026-12-05T10:00:00Z',
      lastUsedAt: null,
      expiresAt: '2099-01-04T10:00:00Z',
    });
    let tokens = [token('t1', 'backup'), token('t2', 'sync')];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (init?.method !== 'DELETE') return json(200, { tokens });
        tokens = tokens.filter((t) => url !== `/api/tokens/${t.id}`);
        return new Response(null, { status: 204 });
      }),
    );
    render(<ApiTokens />);
    for (const [name, next] of [
      ['backup', () => screen.getByRole('button', { name: 'Revoke sync' })],
      ['sync', () => screen.getByLabelText('Token name')],
    ] as const) {
      const revoke = await screen.findByRole('button', { name: `Revoke ${name}` });
      revoke.focus();
      fireEvent.click(revoke);
      fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke token' }));
      await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
      await waitFor(() => expect(document.activeElement).toBe(next()));
    }
  });

  it('says what is missing instead of sending an empty request', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => json(200, { tokens: [] }));
    vi.stubGlobal('fetch', fetchMock);
    render(<ApiTokens />);
    fireEvent.click(await screen.findByRole('button', { name: 'Create token' }));
    expect(await screen.findByText(/Give the token a name/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Token name'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /^Read/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByText('Pick at least one scope.')).toBeTruthy();
    expect(fetchMock.mock.calls.every(([, init]) => (init?.method ?? 'GET') === 'GET')).toBe(true);
  });
});
