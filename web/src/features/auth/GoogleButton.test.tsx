import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { leave } from '../../app/leave';
import { RouterProvider } from '../../app/router';
import { SessionProvider } from '../../app/session';
import { resetProvidersCache } from './GoogleButton';
import { SignIn } from './SignIn';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function renderSignIn(url: string) {
  window.history.replaceState(null, '', url);
  return render(
    <RouterProvider>
      <SessionProvider initialUser={null}>
        <SignIn />
      </SessionProvider>
    </RouterProvider>,
  );
}

beforeEach(() => resetProvidersCache());
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('Sign in with Google', () => {
  it('shows the button only when the server offers Google, and leaves for /api/auth/google', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/auth/providers' ? json(200, { google: true }) : json(404, {}))),
    );
    const assign = vi.spyOn(leave, 'assign').mockImplementation(() => undefined);
    renderSignIn('/signin');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign in with Google' }));
    expect(assign).toHaveBeenCalledWith('/api/auth/google');
  });

  it('hides the button when Google is not configured', async () => {
    const fetchMock = vi.fn(async () => json(200, { google: false }));
    vi.stubGlobal('fetch', fetchMock);
    renderSignIn('/signin');
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole('button', { name: 'Sign in with Google' })).toBeNull();
  });

  it.each([
    ['state_mismatch', /could not be matched to this browser/],
    ['access_denied', /cancelled/],
    ['invalid_id_token', /could not be verified/],
    ['provider_error', /Google could not complete the sign-in/],
  ])('explains ?error=%s in plain words', async (code, text) => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { google: true })),
    );
    renderSignIn(`/signin?error=${code}`);
    expect((await screen.findByRole('alert')).textContent).toMatch(text);
  });
});
