import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const unauthorized = () => json(401, { error: { code: 'unauthorized', message: 'Sign in first.' } });

function start(path: string, me: 'signed-in' | 'signed-out' | 'offline', strict = false) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/auth/me') {
        if (me === 'offline') throw new TypeError('Failed to fetch');
        return me === 'signed-in' ? json(200, { user: { id: 'u1', email: 'a@example.com' } }) : unauthorized();
      }
      if (url === '/api/auth/signup') return json(200, { signup: 'open' });
      return json(404, { error: { code: 'not_found', message: 'Not found.' } });
    }),
  );
  window.history.replaceState(null, '', path);
  render(
    strict ? (
      <StrictMode>
        <App />
      </StrictMode>
    ) : (
      <App />
    ),
  );
}

beforeEach(() => {
  sessionStorage.clear();
  document.title = 'Context Vault';
});
afterEach(() => vi.unstubAllGlobals());

describe('window titles of the pages App.tsx shows itself', () => {
  it('names the 404 page', async () => {
    start('/nowhere', 'signed-in');
    await screen.findByRole('heading', { level: 1, name: 'Page not found' });
    // The title is set by an effect, which may run after the heading is in the page.
    await waitFor(() => expect(document.title).toBe('Page not found · Context Vault'));
  });

  it('names the page shown when the server cannot be reached', async () => {
    start('/vault', 'offline');
    await screen.findByRole('heading', { level: 1, name: 'Context Vault cannot be reached' });
    await waitFor(() => expect(document.title).toBe('Cannot reach Context Vault · Context Vault'));
  });

  it('names the Google Welcome page', async () => {
    start('/welcome', 'signed-out');
    await screen.findByRole('heading', { level: 1, name: /^Welcome/ });
    await waitFor(() => expect(document.title).toBe('Welcome · Context Vault'));
  });

  it('names the Google Unlock page', async () => {
    start('/unlock', 'signed-out');
    await screen.findByRole('heading', { level: 1, name: 'Unlock your vault' });
    await waitFor(() => expect(document.title).toBe('Unlock · Context Vault'));
  });
});

describe('focus between the sign-in, sign-up and recover pages', () => {
  it('leaves the first page as the browser opened it, then starts each page reached by a link at its heading', async () => {
    start('/signin', 'signed-out');
    const signIn = await screen.findByRole('heading', { level: 1, name: 'Sign in' });
    // First load: nothing is moved (the browser's own start).
    expect(document.activeElement).toBe(document.body);
    expect(signIn.getAttribute('tabindex')).toBeNull();

    // Enter on a focused link: the link goes with the old page.
    const toSignUp = screen.getByRole('link', { name: 'Create a vault' });
    toSignUp.focus();
    fireEvent.click(toSignUp);
    const signUp = await screen.findByRole('heading', { level: 1, name: 'Create your vault' });
    await waitFor(() => expect(document.activeElement).toBe(signUp));
    expect(signUp.getAttribute('tabindex')).toBe('-1');

    const toSignIn = screen.getByRole('link', { name: 'Sign in' });
    toSignIn.focus();
    fireEvent.click(toSignIn);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1, name: 'Sign in' })));

    const toRecover = screen.getByRole('link', { name: 'Use your recovery key' });
    toRecover.focus();
    fireEvent.click(toRecover);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1, name: 'Recover your vault' })));
  });

  it('follows Back to the previous auth page as well', async () => {
    start('/signin', 'signed-out');
    await screen.findByRole('heading', { level: 1, name: 'Sign in' });
    fireEvent.click(screen.getByRole('link', { name: 'Use your recovery key' }));
    await screen.findByRole('heading', { level: 1, name: 'Recover your vault' });
    screen.getByLabelText('Email').focus();
    window.history.back();
    await waitFor(() => expect(window.location.pathname).toBe('/signin'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1, name: 'Sign in' })));
  });

  it('does the same under StrictMode, whose second effect run must not count as a new page', async () => {
    start('/signin', 'signed-out', true);
    await screen.findByRole('heading', { level: 1, name: 'Sign in' });
    expect(document.activeElement).toBe(document.body);
    fireEvent.click(screen.getByRole('link', { name: 'Create a vault' }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1, name: 'Create your vault' })));
  });
});
