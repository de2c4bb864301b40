import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { estimateStrength } from './passphrase-strength';
import { LostPassphraseWarning, PassphraseStrength } from './PassphraseStrength';
import { SignUp } from './SignUp';
import { RouterProvider } from '../../app/router';
import { SessionProvider } from '../../app/session';

describe('estimateStrength', () => {
  it('rates short, common and sequential passphrases as weak and not acceptable', () => {
    for (const p of ['', 'password', 'password123', 'qwertyuiop', 'aaaaaaaaaaaa', '1234567890']) {
      const s = estimateStrength(p);
      expect(s.score, p).toBeLessThanOrEqual(1);
      expect(s.acceptable, p).toBe(false);
    }
  });

  it('rates several unrelated words as strong', () => {
    const s = estimateStrength('correct horse battery staple');
    expect(s.score).toBeGreaterThanOrEqual(3);
    expect(s.acceptable).toBe(true);
  });

  it('requires the server minimum of 10 characters whatever the mix', () => {
    const s = estimateStrength('aB3$xY9!');
    expect(s.acceptable).toBe(false);
    expect(s.hints[0]).toMatch(/at least 10 characters \(2 more\)/);
  });

  it('penalises the email address inside the passphrase', () => {
    const withEmail = estimateStrength('margaretsmith2024', 'margaretsmith@example.org');
    const without = estimateStrength('margaretsmith2024');
    expect(withEmail.bits).toBeLessThan(without.bits);
    expect(withEmail.hints).toContain('Do not include your email address.');
  });
});

describe('<PassphraseStrength>', () => {
  it('shows the label and hints for what the user typed', () => {
    const { rerender } = render(<PassphraseStrength passphrase="password" />);
    expect(screen.getByText('Very weak')).toBeTruthy();
    expect(screen.getByText(/common passwords/)).toBeTruthy();
    rerender(<PassphraseStrength passphrase="violet tractor umbrella summit" />);
    expect(screen.getByText('Strong')).toBeTruthy();
  });
});

describe('lost passphrase warning', () => {
  it('says plainly that losing passphrase and recovery key loses the data', () => {
    render(<LostPassphraseWarning />);
    expect(screen.getByRole('note').textContent).toMatch(/lose both your passphrase and your recovery key, your data is gone/);
  });

  it('is on the sign-up form before the account is created', () => {
    window.history.replaceState(null, '', '/signup');
    render(
      <RouterProvider>
        <SessionProvider initialUser={null}>
          <SignUp />
        </SessionProvider>
      </RouterProvider>,
    );
    expect(screen.getByRole('note').textContent).toMatch(/data is gone for good/);
    expect(screen.getByLabelText('Email')).toBeTruthy();
    expect(screen.getByLabelText('Passphrase')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create account' })).toBeTruthy();
  });
});
