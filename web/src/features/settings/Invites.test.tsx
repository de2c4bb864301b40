import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Invites } from './Invites';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<Invites>', () => {
  it('lets an admin create a code and shows it once', async () => {
    const list: unknown[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === '/api/invites/access') return json(200, { admin: true });
        if (url === '/api/invites' && init?.method === 'POST') {
          list.push({ id: 'a', createdAt: '2026-12-05T10:00:00Z', expiresAt: '2026-12-12T10:00:00Z', usedAt: null });
          return json(201, { id: 'a', code: 'CVI-AAAAA-BBBBB-CCCCC-DDDDD', expiresAt: '2026-12-12T10:00:00Z' });
        }
        return json(200, { invites: list });
      }),
    );
    render(<Invites />);
    fireEvent.click(await screen.findByRole('button', { name: 'Create invite code' }));
    expect((await screen.findByTestId('invite-code')).textContent).toBe('CVI-AAAAA-BBBBB-CCCCC-DDDDD');
    await waitFor(() => expect(screen.getByText(/valid until/)).toBeTruthy());
  });

  it('is hidden for accounts that are not admins, without asking for the invites', async () => {
    const fetchMock = vi.fn(async (_url: string) => json(200, { admin: false }));
    vi.stubGlobal('fetch', fetchMock);
    const { container } = render(<Invites />);
    // Nothing shows while the answer is on its way, so the card never flashes.
    expect(container.textContent).toBe('');
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await waitFor(() => expect(container.textContent).toBe(''));
    expect(fetchMock.mock.calls.map((c) => c[0])).toEqual(['/api/invites/access']);
  });

  it('is hidden when the account stops being an admin', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/invites/access'
          ? json(200, { admin: true })
          : json(403, { error: { code: 'not_admin', message: 'Only an admin account can manage invites.' } }),
      ),
    );
    const { container } = render(<Invites />);
    await waitFor(() => expect(container.textContent).toBe(''));
  });
});
