import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leave } from '../../app/leave';
import { RouterProvider } from '../../app/router';
import ConnectionsPage, { connectErrorMessage } from './ConnectionsPage';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const EPIC_A = 'https://fhir.hospital-a.example/api/FHIR/R4';
const EPIC_B = 'https://fhir.hospital-b.example/api/FHIR/R4';
const AVAILABLE = [
  { provider: 'epic', label: 'Epic', configured: true, endpoints: [EPIC_A, EPIC_B] },
  { provider: 'google_health', label: 'Google Health', configured: true, endpoints: [] },
];

function renderAt(url: string) {
  window.history.replaceState(null, '', url);
  return render(
    <RouterProvider>
      <ConnectionsPage />
    </RouterProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('<ConnectionsPage>', () => {
  it('offers a Connect button per Epic endpoint and for Google Health, and leaves for the provider', async () => {
    const fetchMock = vi.fn(async (url: string, _init?: RequestInit) => {
      if (url === '/api/integrations') return json(200, { integrations: [], available: AVAILABLE });
      if (url.startsWith('/api/integrations/epic/connect'))
        return new Response(null, { status: 302, headers: { location: 'https://fhir.hospital-b.example/authorize' } });
      return json(404, {});
    });
    vi.stubGlobal('fetch', fetchMock);
    const assign = vi.spyOn(leave, 'assign').mockImplementation(() => undefined);
    renderAt('/connections');
    const epic = await screen.findByRole('region', { name: 'Epic MyChart' });
    const buttons = within(epic).getAllByRole('button', { name: 'Connect' });
    expect(buttons).toHaveLength(2);
    expect(within(epic).getByText('fhir.hospital-b.example')).toBeTruthy();
    within(screen.getByRole('region', { name: 'Google Health' })).getByRole('button', { name: 'Connect' });
    fireEvent.click(buttons[1]!);
    await waitFor(() => expect(assign).toHaveBeenCalledWith(`/api/integrations/epic/connect?endpoint=${encodeURIComponent(EPIC_B)}`));
    expect(fetchMock.mock.calls.find(([u]) => String(u).includes('/connect'))![1]).toMatchObject({ redirect: 'manual' });
  });

  it('shows a refused discovery in plain words instead of leaving the page', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/integrations') return json(200, { integrations: [], available: AVAILABLE });
        return json(502, { error: { code: 'unsafe_endpoint', message: 'The discovery document points at a private or link-local address.' } });
      }),
    );
    const assign = vi.spyOn(leave, 'assign').mockImplementation(() => undefined);
    renderAt('/connections');
    const epic = await screen.findByRole('region', { name: 'Epic MyChart' });
    fireEvent.click(within(epic).getAllByRole('button', { name: 'Connect' })[0]!);
    await within(epic).findByText(/private or link-local/);
    expect(assign).not.toHaveBeenCalled();
  });

  it('shows the banner from the callback and cleans the address', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { integrations: [], available: AVAILABLE })),
    );
    renderAt('/connections?provider=epic&error=access_denied');
    await screen.findByText('You did not give access at Epic, so nothing was connected.');
    await waitFor(() => expect(window.location.search).toBe(''));
    expect(connectErrorMessage('state_mismatch', 'Epic')).toMatch(/could not be matched/);
  });

  it('says which record types a finished sync could not read, with the reason', async () => {
    const integrations = [{ provider: 'epic', status: 'connected', endpoint: EPIC_A, lastSyncAt: '2026-01-02T10:00:00.000Z' }];
    const done = {
      id: 'j2',
      kind: 'sync:epic',
      status: 'done',
      result: { imported: { Observation: 4 }, skipped: { Immunization: 'Access to Immunization was not granted.' } },
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/integrations') return json(200, { integrations, available: AVAILABLE });
        if (url === '/api/integrations/epic/sync') return json(202, { jobId: 'j2' });
        if (url === '/api/jobs/j2') return json(200, done);
        return json(404, {});
      }),
    );
    renderAt('/connections');
    const epic = await screen.findByRole('region', { name: 'Epic MyChart' });
    fireEvent.click(await within(epic).findByRole('button', { name: 'Sync now' }));
    await within(epic).findByText(/Sync finished: checked 4 observation/, {}, { timeout: 3000 });
    expect(within(epic).getByText('Not everything was synced')).toBeTruthy();
    expect(within(epic).getByText('immunization: Access to Immunization was not granted.')).toBeTruthy();
  });

  it('syncs now, polls the sync job, then asks before disconnecting', async () => {
    let integrations = [{ provider: 'epic', status: 'connected', endpoint: EPIC_A, lastSyncAt: '2026-01-02T10:00:00.000Z' }];
    const polls = [
      { id: 'j1', kind: 'sync:epic', status: 'running' },
      { id: 'j1', kind: 'sync:epic', status: 'done', result: { imported: { Observation: 120, Condition: 3 }, skipped: {} } },
    ];
    const fetchMock = vi.fn(async (url: string, init: RequestInit = {}) => {
      if (url === '/api/integrations') return json(200, { integrations, available: AVAILABLE });
      if (url === '/api/integrations/epic/sync') return json(202, { jobId: 'j1' });
      if (url === '/api/jobs/j1') return json(200, polls.length > 1 ? polls.shift() : polls[0]);
      if (url === '/api/integrations/epic' && init.method === 'DELETE') {
        integrations = [];
        return new Response(null, { status: 204 });
      }
      return json(404, {});
    });
    vi.stubGlobal('fetch', fetchMock);
    renderAt('/connections');
    const epic = await screen.findByRole('region', { name: 'Epic MyChart' });
    await within(epic).findByText('Connected');
    expect(within(epic).getByText('fhir.hospital-a.example')).toBeTruthy();
    fireEvent.click(within(epic).getByRole('button', { name: 'Sync now' }));
    await within(epic).findByRole('progressbar', { name: 'Syncing Epic MyChart' });
    await within(epic).findByText(/Sync finished: checked 120 observation, 3 condition/, {}, { timeout: 3000 });

    fireEvent.click(within(epic).getByRole('button', { name: 'Disconnect' }));
    const dialog = await screen.findByRole('dialog', { name: 'Disconnect Epic MyChart?' });
    expect(fetchMock.mock.calls.some(([, i]) => (i as RequestInit | undefined)?.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Disconnect' }));
    await waitFor(() => expect(within(screen.getByRole('region', { name: 'Epic MyChart' })).getAllByRole('button', { name: 'Connect' })).toHaveLength(2));
  });

  it('says Epic asked to sign in again and offers Connect to the same health system', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(200, {
          integrations: [
            {
              provider: 'epic',
              status: 'reauth_required',
              endpoint: EPIC_B,
              lastSyncAt: null,
              error: { code: 'reauth_required', message: 'Epic asked you to sign in again. Connect again to resume syncing.' },
            },
          ],
          available: AVAILABLE,
        }),
      ),
    );
    renderAt('/connections');
    const epic = await screen.findByRole('region', { name: 'Epic MyChart' });
    await within(epic).findByText(/Epic asked you to sign in again/);
    expect(within(epic).getAllByRole('button', { name: 'Connect' })).toHaveLength(1);
    expect(within(epic).queryByRole('button', { name: 'Sync now' })).toBeNull();
  });
});
