import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider } from '../../app/router';
import { estimateStrength } from './passphrase-strength';
import { SignUp, validateNewPassphrase } from './SignUp';

/** The server counts a passphrase's characters (code points, contract/account.ts), so the form does too. */
describe('passphrase length as the server counts it', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  const fiveEmoji = '😀😀😀😀😀'; // 10 UTF-16 units, 5 characters

  it('does not rate five emoji as meeting the 10-character minimum', () => {
    const s = estimateStrength(fiveEmoji);
    expect(s.acceptable).toBe(false);
    expect(s.label).not.toBe('Good');
    expect(s.hints[0]).toMatch(/at least 10 characters \(5 more\)/);
    expect(validateNewPassphrase(fiveEmoji, fiveEmoji)).toBe('Your passphrase needs at least 10 characters.');
  });

  it('counts ten emoji as ten characters', () => {
    expect(estimateStrength('🔐🔑🐱🎉🌵🚲🎈🍋🦊🪁').hints.some((h) => /at least 10/.test(h))).toBe(false);
  });

  it('refuses five emoji on the form itself, without asking the server', async () => {
    const fetchMock = vi.fn(async (url: string) => {
      if (url === '/api/auth/signup') return new Response(JSON.stringify({ signup: 'open' }), { status: 200, headers: { 'content-type': 'application/json' } });
      return new Response(JSON.stringify({ error: { code: 'not_found', message: 'x' } }), { status: 404, headers: { 'content-type': 'application/json' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(
      <RouterProvider>
        <SignUp />
      </RouterProvider>,
    );
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'emo@example.org' } });
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: fiveEmoji } });
    fireEvent.change(screen.getByLabelText('Re-enter to confirm'), { target: { value: fiveEmoji } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Your passphrase needs at least 10 characters.')).toBeTruthy();
    expect(fetchMock.mock.calls.some(([u]) => u === '/api/auth/register')).toBe(false);
  });
});
