import { act, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearKeptDrafts, hasKeptDrafts, keepDraft } from '../features/vault/keptDrafts';
import { rememberVaultWords, vaultWords } from '../features/vault/vaultLocation';
import { SessionProvider, useSession } from './session';

const draft = { title: 'Dose', text: 'warfarin 5 mg', tags: [] };

function mount(user: { id: string; email: string }) {
  let session!: ReturnType<typeof useSession>;
  function Probe() {
    session = useSession();
    return null;
  }
  render(
    <SessionProvider initialUser={user}>
      <Probe />
    </SessionProvider>,
  );
  return () => session;
}

afterEach(() => {
  vi.unstubAllGlobals();
  clearKeptDrafts();
});

describe('edits kept across an ended session', () => {
  it('stay for the same account signing in again, and go when another account signs in at this tab', () => {
    const session = mount({ id: 'a', email: 'a@example.com' });
    keepDraft('item-1', { draft, base: draft, baseVersion: 1 });
    rememberVaultWords({ q: 'blood test', tag: 'labs' });
    act(() => session().setUser(null));
    act(() => session().setUser({ id: 'a', email: 'a@example.com' }));
    expect(hasKeptDrafts()).toBe(true);
    expect(vaultWords().q).toBe('blood test');
    act(() => session().setUser(null));
    act(() => session().setUser({ id: 'b', email: 'b@example.com' }));
    expect(hasKeptDrafts()).toBe(false);
    expect(vaultWords()).toEqual({ q: '' });
  });

  it('go when the person signs out', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(null, { status: 204 })),
    );
    const session = mount({ id: 'a', email: 'a@example.com' });
    keepDraft('item-1', { draft, base: draft, baseVersion: 1 });
    rememberVaultWords({ q: 'blood test' });
    await act(() => session().signOut());
    expect(hasKeptDrafts()).toBe(false);
    expect(vaultWords()).toEqual({ q: '' });
  });
});
