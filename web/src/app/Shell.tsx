import { useEffect, useRef, useState, type ReactNode } from 'react';
import { focusLost, focusNewPage } from '../components/focus';
import { TOUCH_TARGET } from '../components/ui/Button';
import { RecoveryKeyBanner } from '../features/auth/RecoveryKeyBanner';
import { Logo } from './Logo';
import { Shortcuts } from './Shortcuts';
import { Link, useRouter } from './router';
import { useSession } from './session';

const NAV = [
  { to: '/vault', label: 'Vault' },
  { to: '/health', label: 'Health' },
  { to: '/chat', label: 'Chat' },
  { to: '/connections', label: 'Connections' },
  { to: '/settings', label: 'Settings' },
];

export function Shell({ children }: { children: ReactNode }) {
  const { path, navigate } = useRouter();
  const { user, signOut } = useSession();
  const [busy, setBusy] = useState(false);
  // On a phone the five destinations do not fit in the header: a menu button lists them.
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  // A new page starts at its heading, so a screen reader names it: after a link (the nav's, a row's;
  // on a phone the menu hides the link with the same click) and after a control that went with the
  // old page (Move to trash, a saved note). Not on the first page (the browser's start, the skip
  // link first), not on a change of the query alone (search typing), and not where the page itself
  // put focus along with a new address (a chat's saved address while its box keeps the cursor).
  const shownPath = useRef(path);
  useEffect(() => {
    if (path === shownPath.current) return;
    shownPath.current = path;
    const el = document.activeElement;
    if (focusLost() || el instanceof HTMLAnchorElement || el?.id === 'main') return focusNewPage();
  }, [path]);

  const doSignOut = async () => {
    setBusy(true);
    try {
      await signOut();
    } finally {
      setBusy(false);
      navigate('/signin', { replace: true });
    }
  };

  return (
    <div className="min-h-screen">
      <Shortcuts />
      <a href="#main" className="skip-link rounded-md bg-white px-3 py-2 text-sm font-medium shadow">
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-stone-200 bg-white/90 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4 md:gap-6">
          <Link to="/vault" className={`flex items-center gap-2 font-semibold tracking-tight text-stone-900 ${TOUCH_TARGET}`}>
            <Logo />
            {/* Named by its visible text (WCAG 2.5.3 label in name); on small screens the text is for screen readers only. */}
            <span className="sr-only sm:not-sr-only">Context Vault</span>
          </Link>
          <button
            ref={menuButton}
            type="button"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((o) => !o)}
            className={`inline-flex items-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium text-stone-700 hover:bg-stone-100 focus-visible:outline-2 focus-visible:outline-teal-600 md:hidden ${TOUCH_TARGET}`}
          >
            <svg viewBox="0 0 20 20" className="h-4 w-4" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round">
              {menuOpen ? <path d="M5 5l10 10M15 5L5 15" /> : <path d="M3 6h14M3 10h14M3 14h14" />}
            </svg>
            Menu
          </button>
          <nav
            id="main-nav"
            aria-label="Main"
            className={`${menuOpen ? 'flex' : 'hidden'} absolute inset-x-0 top-14 flex-col gap-1 border-b border-stone-200 bg-white p-2 shadow-sm md:static md:flex md:flex-row md:items-center md:border-0 md:bg-transparent md:p-0 md:shadow-none`}
          >
            {NAV.map((n) => {
              const active = path === n.to || path.startsWith(`${n.to}/`);
              return (
                <Link
                  key={n.to}
                  to={n.to}
                  aria-current={active ? 'page' : undefined}
                  onClick={() => setMenuOpen(false)}
                  className={`flex items-center rounded-md px-3 py-1.5 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-teal-600 md:block ${TOUCH_TARGET} ${
                    active ? 'bg-teal-50 text-teal-900' : 'text-stone-600 hover:bg-stone-100 hover:text-stone-900'
                  }`}
                >
                  {n.label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <span className="hidden text-sm text-stone-500 md:inline" title="Signed in as">
              {user?.email}
            </span>
            <button
              type="button"
              onClick={doSignOut}
              disabled={busy}
              className={`rounded-md px-3 py-1.5 text-sm font-medium text-stone-600 hover:bg-stone-100 hover:text-stone-900 focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET}`}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <RecoveryKeyBanner />
      <main id="main" className="mx-auto max-w-6xl px-4 py-8" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
