import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RouterProvider, useRouter } from './router';
import { SessionProvider } from './session';
import { Shell } from './Shell';

afterEach(() => vi.unstubAllGlobals());

function setup() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })),
  );
  window.history.replaceState(null, '', '/vault');
  render(
    <RouterProvider>
      <SessionProvider initialUser={{ id: 'u1', email: 'a@example.com' } as never}>
        <Shell>
          <p>Page</p>
        </Shell>
      </SessionProvider>
    </RouterProvider>,
  );
}

describe('<Shell> main navigation on a phone', () => {
  it('has a menu button that opens and closes the main navigation with every destination', () => {
    setup();
    const button = screen.getByRole('button', { name: 'Menu' });
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(button.getAttribute('aria-controls')).toBe(nav.id);
    // Closed, the list is hidden below the md breakpoint (and shown inline from it).
    expect(nav.className).toMatch(/(^| )hidden( |$)/);
    expect(nav.className).toContain('md:flex');

    fireEvent.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect(nav.className).not.toMatch(/(^| )hidden( |$)/);
    for (const name of ['Vault', 'Health', 'Chat', 'Connections', 'Settings']) expect(within(nav).getByRole('link', { name })).toBeTruthy();

    fireEvent.click(within(nav).getByRole('link', { name: 'Settings' }));
    expect(window.location.pathname).toBe('/settings');
    expect(button.getAttribute('aria-expanded')).toBe('false');
  });

  it('closes on Escape and gives focus back to the menu button', () => {
    setup();
    const button = screen.getByRole('button', { name: 'Menu' });
    fireEvent.click(button);
    within(screen.getByRole('navigation', { name: 'Main' }))
      .getByRole('link', { name: 'Health' })
      .focus();
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(button);
  });
});

function Pages() {
  const { path, navigate } = useRouter();
  return path === '/vault/i1' ? (
    <>
      <h1>Trip</h1>
      <button type="button" onClick={() => navigate('/vault')}>
        Move to trash
      </button>
    </>
  ) : (
    <h1>Vault</h1>
  );
}

describe('<Shell> focus on a new page', () => {
  it('starts at the new page’s heading when the control that led there went with the old page', () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })),
    );
    window.history.replaceState(null, '', '/vault/i1');
    render(
      <RouterProvider>
        <SessionProvider initialUser={{ id: 'u1', email: 'a@example.com' } as never}>
          <Shell>
            <Pages />
          </Shell>
        </SessionProvider>
      </RouterProvider>,
    );
    const trash = screen.getByRole('button', { name: 'Move to trash' });
    trash.focus();
    fireEvent.click(trash);
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Vault' }));
  });
});
