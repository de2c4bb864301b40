import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Activity } from './Activity';
import { NewRecoveryKey } from './NewRecoveryKey';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<Activity>', () => {
  it('shows a new recovery key made on the same page without a reload, and names the new events', async () => {
    const events = [{ action: 'register', at: '2026-12-07T00:00:00.000Z' }];
    const fetchMock = vi.fn(async (url: string) => {
      if (url.startsWith('/api/activity')) return json(200, { events: [...events], nextCursor: null });
      events.unshift(
        { action: 'recovery_key_rotated', at: '2026-12-07T00:02:00.000Z' },
        { action: 'google_linked', at: '2026-12-07T00:01:00.000Z' },
        { action: 'passphrase_change_failed', at: '2026-12-07T00:00:30.000Z' },
      );
      return json(200, { recoveryKey: 'CV1-7H2Q-XM9D-P4LA-0ZKE-33TT-W8NB-QRSX' });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(
      <>
        <NewRecoveryKey email="a@example.org" />
        <Activity />
      </>,
    );
    expect(await screen.findByText('Account created')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Create a new recovery key…' }));
    fireEvent.change(screen.getByLabelText('Your passphrase'), { target: { value: 'my passphrase here' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create new key' }));

    expect(await screen.findByText('New recovery key made')).toBeTruthy();
    expect(screen.getByText('Google sign-in linked')).toBeTruthy();
    expect(screen.getByText('Failed passphrase change (wrong current passphrase)').className).toContain('text-red-700');
    // One load at first and one after the action: no polling.
    await waitFor(() => expect(fetchMock.mock.calls.filter(([u]) => String(u).startsWith('/api/activity'))).toHaveLength(2));
  });

  it('names the connection of a sync and flags a failed export', async () => {
    const events = [
      { action: 'integration_synced', at: '2026-12-07T00:02:00.000Z', connection: { provider: 'epic', label: 'Epic', id: 'c1' } },
      { action: 'export_failed', at: '2026-12-07T00:01:00.000Z' },
    ];
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { events, nextCursor: null })),
    );
    render(<Activity />);
    const synced = await screen.findByText('Connection synced');
    expect(synced.textContent).toContain('Epic');
    expect(screen.getByText('Vault export failed (the download ended short)').className).toContain('text-red-700');
  });
});
