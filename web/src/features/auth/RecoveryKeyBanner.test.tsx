import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { SessionProvider } from '../../app/session';
import { RecoveryKeyBanner } from './RecoveryKeyBanner';
import { RecoveryKeyDialog } from './RecoveryKeyDialog';
import { SignUp } from './SignUp';

const KEY = 'CV1-7H2Q-XM9D-P4LA-0ZKE-33TT-W8NB-QRSX';
const USER = { id: 'u-1', email: 'ann@example.org' };
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => {
  vi.unstubAllGlobals();
  window.localStorage.clear();
});

const app = () =>
  render(
    <RouterProvider>
      <SessionProvider initialUser={USER}>
        <RecoveryKeyBanner />
      </SessionProvider>
    </RouterProvider>,
  );

async function signUpAndLeave() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/auth/signup') return json(200, { signup: 'open' });
      if (url === '/api/auth/register') return json(201, { user: USER, recoveryKey: KEY });
      return json(404, { error: { code: 'not_found', message: 'x' } });
    }),
  );
  const page = render(
    <RouterProvider>
      <SessionProvider initialUser={null}>
        <SignUp />
      </SessionProvider>
    </RouterProvider>,
  );
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: USER.email } });
  fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'violet harbor quantum saddle' } });
  fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: 'violet harbor quantum saddle' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
  await screen.findByRole('dialog', { name: 'Save your recovery key' });
  // The page reloads before "I have saved my recovery key".
  page.unmount();
}

describe('a recovery key never confirmed as saved', () => {
  it('leaves a reminder, without the key, that points to Settings', async () => {
    await signUpAndLeave();
    expect(JSON.stringify({ ...window.localStorage, ...window.sessionStorage })).not.toContain('7H2Q');
    app();
    expect(screen.getByText('Your recovery key was not confirmed as saved')).toBeTruthy();
    expect(screen.getByRole('link', { name: /Create a new recovery key/ }).getAttribute('href')).toBe('/settings');
  });

  it('goes away once a new key is confirmed in Settings', async () => {
    await signUpAndLeave();
    app();
    render(<RecoveryKeyDialog open recoveryKey={KEY} email={USER.email} onDone={() => undefined} />);
    fireEvent.click(screen.getByLabelText('I have saved my recovery key'));
    act(() => fireEvent.click(screen.getByRole('button', { name: 'Continue' })));
    await waitFor(() => expect(screen.queryByText('Your recovery key was not confirmed as saved')).toBeNull());
    expect(window.localStorage.length).toBe(0);
  });

  it('is dismissed only after saying what that means', async () => {
    await signUpAndLeave();
    app();
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss…' }));
    expect(screen.getByText(/a forgotten passphrase means your vault cannot be opened again/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'I have my key, hide this' }));
    expect(screen.queryByText('Your recovery key was not confirmed as saved')).toBeNull();
  });

  it('is not left behind when the key is confirmed at sign-up', async () => {
    await signUpAndLeave();
    window.localStorage.clear();
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/auth/register' ? json(201, { user: USER, recoveryKey: KEY }) : json(200, { signup: 'open' }))),
    );
    render(
      <RouterProvider>
        <SessionProvider initialUser={null}>
          <SignUp />
        </SessionProvider>
      </RouterProvider>,
    );
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: USER.email } });
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'violet harbor quantum saddle' } });
    fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: 'violet harbor quantum saddle' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    fireEvent.click(await screen.findByLabelText('I have saved my recovery key'));
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(window.localStorage.length).toBe(0);
  });
});

describe('sign-up with nothing filled in', () => {
  it('asks for the email first', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { signup: 'open' })),
    );
    render(
      <RouterProvider>
        <SessionProvider initialUser={null}>
          <SignUp />
        </SessionProvider>
      </RouterProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Enter your email address.')).toBeTruthy();
  });
});
