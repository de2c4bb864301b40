import { useEffect, useRef, type ReactNode } from 'react';
import { Logo } from '../../app/Logo';
import { useRouter } from '../../app/router';
import { focusLost, focusNewPage } from '../../components/focus';

/**
 * The routers (one per app, keyed by its stable navigate) that have shown an auth page. These
 * pages live outside Shell, so each one starts its own page the way Shell does for the others.
 */
const shownAuthPage = new WeakSet<object>();

export function AuthLayout({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  const { navigate } = useRouter();
  // Each auth page is its own component, so this mounts once per page. The first one is where the
  // browser started (nothing to move); a later one was reached from another page (a footer link
  // that went with it, Back), and focus would otherwise fall to <body>: start at the heading so a
  // screen reader names the new page. Decided once, so StrictMode's second effect run changes nothing.
  const arrived = useRef<boolean | null>(null);
  useEffect(() => {
    if (arrived.current === null) {
      arrived.current = shownAuthPage.has(navigate);
      shownAuthPage.add(navigate);
    }
    if (!arrived.current) return;
    const el = document.activeElement;
    if (focusLost() || el instanceof HTMLAnchorElement || el?.id === 'main') return focusNewPage();
  }, [navigate]);

  return (
    <div className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-stone-50 to-teal-50/40 px-4 py-12">
      <div className="mb-6 flex items-center gap-2 text-stone-800">
        <Logo className="h-8 w-8" />
        <span className="text-lg font-semibold tracking-tight">Context Vault</span>
      </div>
      <main id="main" tabIndex={-1} className="w-full max-w-md rounded-2xl border border-stone-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight text-stone-900">{title}</h1>
        {subtitle && <p className="mt-1 text-sm text-stone-600">{subtitle}</p>}
        <div className="mt-6">{children}</div>
      </main>
      {footer && <div className="mt-6 text-center text-sm text-stone-600">{footer}</div>}
      <p className="mt-8 max-w-sm text-center text-xs text-stone-500">
        End-to-end encrypted with your passphrase. Your documents and health records never leave the server you run.
      </p>
    </div>
  );
}
