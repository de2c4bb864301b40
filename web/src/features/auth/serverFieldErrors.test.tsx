import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { SessionProvider } from '../../app/session';
import { ChangePassphrase } from '../settings/SettingsPage';
import { NewRecoveryKey } from '../settings/NewRecoveryKey';
import { Recover } from './Recover';
import { SignIn } from './SignIn';

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const wrong = (message: string) => reply(401, { error: { code: 'invalid_credentials', message } });
const GOOD = 'violet harbor quantum saddle';

function answer(route: string, res: () => Response) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => (url === route ? res() : reply(404, { error: { code: 'not_found', message: 'Not found.' } }))),
  );
}
const wrap = (ui: ReactNode) =>
  render(
    <RouterProvider>
      <SessionProvider initialUser={{ id: 'u1', email: 'ann@example.org' } as never}>{ui}</SessionProvider>
    </RouterProvider>,
  );

/** The field is marked invalid, described by the alert's message, and holds focus. */
async function expectTiedTo(label: string, message: string) {
  const alert = await screen.findByRole('alert');
  expect(alert.textContent).toBe(message);
  const field = screen.getByLabelText(label);
  await waitFor(() => expect(document.activeElement).toBe(field));
  expect(field.getAttribute('aria-invalid')).toBe('true');
  expect(field.getAttribute('aria-describedby')?.split(' ')).toContain(alert.id);
  expect(alert.id).not.toBe('');
}
const unmarked = (label: string) => {
  const field = screen.getByLabelText(label);
  expect(field.getAttribute('aria-invalid')).toBeNull();
  return field;
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('server errors about a field point at that field', () => {
  it('sign-in: a wrong email or passphrase marks both (either may be wrong) and puts focus on the passphrase', async () => {
    answer('/api/auth/login', () => wrong('Email or passphrase is incorrect.'));
    wrap(<SignIn />);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.org' } });
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'not it' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await expectTiedTo('Passphrase', 'Email or passphrase is incorrect.');
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
  });

  it('sign-in: an error that is not about the fields (server down) marks neither', async () => {
    answer('/api/auth/login', () => reply(503, { error: { code: 'unavailable', message: 'Try again in a minute.' } }));
    wrap(<SignIn />);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.org' } });
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'not it' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByRole('alert');
    unmarked('Email');
    unmarked('Passphrase');
  });

  it('recover: a wrong recovery key marks the key (and email, either may be wrong) and focuses the key', async () => {
    answer('/api/auth/recover', () => wrong('Email or recovery key is incorrect.'));
    wrap(<Recover />);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.org' } });
    fireEvent.change(screen.getByLabelText('Recovery key'), { target: { value: 'CV1-AAAA' } });
    fireEvent.change(screen.getByLabelText('New passphrase'), { target: { value: GOOD } });
    fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: GOOD } });
    fireEvent.click(screen.getByRole('button', { name: 'Set new passphrase' }));
    await expectTiedTo('Recovery key', 'Email or recovery key is incorrect.');
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    unmarked('New passphrase');
  });

  it('change passphrase: a wrong current passphrase marks and focuses that field, keeping its strength hint', async () => {
    answer('/api/auth/passphrase', () => wrong('The current passphrase is incorrect.'));
    wrap(<ChangePassphrase />);
    fireEvent.change(screen.getByLabelText('Current passphrase'), { target: { value: 'not it' } });
    fireEvent.change(screen.getByLabelText('New passphrase'), { target: { value: GOOD } });
    fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: GOOD } });
    fireEvent.click(screen.getByRole('button', { name: 'Change passphrase' }));
    await expectTiedTo('Current passphrase', 'The current passphrase is incorrect.');
    const next = unmarked('New passphrase');
    // The new passphrase's own description (its strength) is still there.
    expect(next.getAttribute('aria-describedby')).toBeTruthy();
  });

  it('new recovery key: a wrong passphrase marks and focuses the passphrase', async () => {
    answer('/api/auth/recovery-key', () => wrong('The passphrase is incorrect.'));
    render(<NewRecoveryKey email="ann@example.org" />);
    fireEvent.click(screen.getByRole('button', { name: 'Create a new recovery key…' }));
    fireEvent.change(screen.getByLabelText('Your passphrase'), { target: { value: 'not it' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create new key' }));
    await expectTiedTo('Your passphrase', 'The passphrase is incorrect.');
  });
});
