import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { SignUp } from './SignUp';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const renderSignUp = () =>
  render(
    <RouterProvider>
      <SignUp />
    </RouterProvider>,
  );

describe('<SignUp> and the sign-up policy', () => {
  it('asks for an invite code when the server wants one and sends it', async () => {
    const fetchMock = vi.fn(async (url: string, _init?: RequestInit) => {
      if (url === '/api/auth/signup') return json(200, { signup: 'invite' });
      if (url === '/api/auth/google/config' || url.startsWith('/api/auth/google')) return json(404, { error: { code: 'not_configured', message: 'x' } });
      return json(403, { error: { code: 'signup_closed', message: 'This invite code is not valid: it may have been used or have expired.' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    renderSignUp();
    const code = await screen.findByLabelText(/Invite code/);
    fireEvent.change(code, { target: { value: ' CVI-AAAAA-BBBBB-CCCCC-DDDDD ' } });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.org' } });
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'violet harbor quantum saddle' } });
    fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: 'violet harbor quantum saddle' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('This invite code is not valid: it may have been used or have expired.')).toBeTruthy();
    const call = fetchMock.mock.calls.find(([u]) => u === '/api/auth/register')!;
    expect(JSON.parse(String(call[1]?.body))).toMatchObject({ email: 'ann@example.org', inviteCode: 'CVI-AAAAA-BBBBB-CCCCC-DDDDD' });
  });

  it('says sign-up is closed and shows no form', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/auth/signup' ? json(200, { signup: 'closed' }) : json(404, {}))),
    );
    renderSignUp();
    expect(await screen.findByText(/Sign-up is closed on this server/)).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Create account' })).toBeNull());
  });
});
