import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from '../api/client';
import { App } from './App';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const unauthorized = () => json(401, { error: { code: 'unauthorized', message: 'Sign in first.' } });

function start(path: string, signedIn: boolean) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/auth/me') return signedIn ? json(200, { user: { id: 'u1', email: 'a@example.com' } }) : unauthorized();
      if (url === '/api/auth/logout') return new Response(null, { status: 204 });
      if (url === '/api/ended') return unauthorized();
      return json(200, {});
    }),
  );
  window.history.replaceState(null, '', path);
  render(<App />);
}

beforeEach(() => sessionStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('the sign-in page after a session ended', () => {
  it('says "You were signed out" when the server ended the session in use', async () => {
    start('/nowhere', true);
    await screen.findByText('Page not found');
    await act(async () => {
      await api.get('/api/ended').catch(() => undefined);
    });
    expect(window.location.pathname).toBe('/signin');
    expect((await screen.findByTestId('signed-out')).textContent).toMatch(/^You were signed out\./);
  });

  it('says nothing on a plain visit to the sign-in page', async () => {
    start('/signin', false);
    await screen.findAllByRole('button', { name: /sign in/i });
    expect(screen.queryByTestId('signed-out')).toBeNull();
  });

  it('says nothing after the user signs out on purpose', async () => {
    start('/nowhere', true);
    await screen.findByText('Page not found');
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findAllByRole('button', { name: /sign in/i });
    expect(screen.queryByTestId('signed-out')).toBeNull();
  });
});
