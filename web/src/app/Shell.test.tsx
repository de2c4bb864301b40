import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useEffect, useState } from 'react';
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

/** Pages by path; /health's heading comes late, as a lazy page's or a loading page's does. */
function Site() {
  const { path, navigate } = useRouter();
  const [late, setLate] = useState(false);
  useEffect(() => {
    setLate(false);
    if (path !== '/health') return;
    const t = setTimeout(() => setLate(true), 30);
    return () => clearTimeout(t);
  }, [path]);
  if (path === '/health') return late ? <h1>Health</h1> : <p role="status">Loading</p>;
  if (path === '/settings') return <h1>Settings</h1>;
  return (
    <>
      <h1>Vault</h1>
      <label>
        Search
        <input onChange={(e) => navigate(`/vault?q=${encodeURIComponent(e.target.value)}`, { replace: true })} />
      </label>
    </>
  );
}

function showSite() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })),
  );
  window.history.replaceState(null, '', '/vault');
  render(
    <RouterProvider>
      <SessionProvider initialUser={{ id: 'u1', email: 'a@example.com' } as never}>
        <Shell>
          <Site />
        </Shell>
      </SessionProvider>
    </RouterProvider>,
  );
}

/** Enter on a focused link: the browser's click on it. */
function follow(name: string) {
  const link = within(screen.getByRole('navigation', { name: 'Main' })).getByRole('link', { name });
  link.focus();
  fireEvent.click(link);
}

describe('<Shell> announces a page reached by a link', () => {
  it('moves focus from the nav link to the new page’s heading, also back on the first page', async () => {
    showSite();
    follow('Settings');
    expect(window.location.pathname).toBe('/settings');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Settings' }));
    follow('Vault');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Vault' }));
  });

  it('moves focus to the heading after choosing a page from the phone Menu (its link is hidden with the menu)', () => {
    showSite();
    fireEvent.click(screen.getByRole('button', { name: 'Menu' }));
    follow('Settings');
    expect(screen.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Settings' }));
  });

  it('waits for a heading that comes after the page (lazy or loading), holding focus on the main region meanwhile', async () => {
    showSite();
    follow('Health');
    expect(document.activeElement?.id).toBe('main');
    const heading = await screen.findByRole('heading', { name: 'Health' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });

  it('leaves focus alone on the first page and when only the query changes (search typing)', () => {
    showSite();
    expect(document.activeElement).toBe(document.body);
    const search = screen.getByLabelText('Search');
    search.focus();
    fireEvent.change(search, { target: { value: 'tax' } });
    expect(window.location.search).toBe('?q=tax');
    expect(document.activeElement).toBe(search);
  });
});
