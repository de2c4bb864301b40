import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Spinner } from '../components/ui/Button';
import { usePageTitle } from '../components/usePageTitle';
import { Recover } from '../features/auth/Recover';
import { SignIn } from '../features/auth/SignIn';
import { SignUp } from '../features/auth/SignUp';
import { Unlock, Welcome } from '../features/auth/GoogleFlows';
import { VaultPage } from '../features/vault/VaultPage';
import { ItemPage } from '../features/vault/ItemPage';
import { guardFileDrops } from './fileDrops';
import { Shell } from './Shell';
import { SignedOutNotice } from './SignedOutNotice';
import { match, RouterProvider, useRouter } from './router';
import { SessionProvider, useSession } from './session';

const HealthPage = lazy(() => import('../features/health/HealthPage'));
const LabTrendPage = lazy(() => import('../features/health/LabTrendPage'));
const ChatPage = lazy(() => import('../features/chat/ChatPage'));
const SettingsPage = lazy(() => import('../features/settings/SettingsPage'));
const ConnectionsPage = lazy(() => import('../features/settings/ConnectionsPage'));

const PUBLIC = ['/signin', '/signup', '/recover', '/welcome', '/unlock'];
/** The words people type for these pages. */
const ALIASES: Record<string, string> = { '/login': '/signin', '/sign-in': '/signin', '/register': '/signup', '/sign-up': '/signup' };

/** Shown when the app shell opened but the server did not answer: nothing is kept offline. */
function Unreachable() {
  usePageTitle('Cannot reach Context Vault');
  return (
    <main id="main" className="mx-auto max-w-lg px-4 py-16 text-center">
      <div role="alert" className="rounded-xl border border-amber-300 bg-amber-50 px-6 py-5 text-amber-950" data-testid="offline">
        <h1 className="text-lg font-semibold">Context Vault cannot be reached</h1>
        <p className="mt-2 text-sm">
          You may be offline, or the server may be down. Your vault stays on the server: nothing from it is kept on this device, so it opens again once the
          connection is back.
        </p>
        <button
          type="button"
          onClick={() => window.location.reload()}
          className="mt-4 inline-flex h-10 items-center rounded-lg bg-teal-700 px-4 text-sm font-medium text-white hover:bg-teal-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-600"
        >
          Try again
        </button>
      </div>
    </main>
  );
}

function Loading() {
  return (
    <div className="flex min-h-[50vh] items-center justify-center text-stone-500" role="status">
      <Spinner className="h-6 w-6" />
      <span className="sr-only">Loading</span>
    </div>
  );
}

function Redirect({ to }: { to: string }) {
  const { navigate } = useRouter();
  useEffect(() => navigate(to, { replace: true }), [to, navigate]);
  return null;
}

function Routes() {
  const { path, search } = useRouter();
  const { user, loading, unreachable } = useSession();

  if (loading) return <Loading />;
  if (unreachable && !user) return <Unreachable />;

  const alias = ALIASES[path];
  if (alias) return <Redirect to={alias + search} />;

  if (PUBLIC.includes(path)) {
    if (user && path !== '/recover') return <Redirect to="/vault" />;
    if (path === '/signin')
      return (
        <>
          <SignedOutNotice />
          <SignIn />
        </>
      );
    if (path === '/signup') return <SignUp />;
    if (path === '/recover') return <Recover />;
    if (path === '/welcome') return <Welcome />;
    return <Unlock />;
  }

  if (!user) {
    const next = path === '/' ? '' : `?next=${encodeURIComponent(path + search)}`;
    return <Redirect to={`/signin${next}`} />;
  }

  let page: ReactNode;
  let params: Record<string, string> | null;
  if (path === '/') page = <Redirect to="/vault" />;
  else if (path === '/vault') page = <VaultPage />;
  else if ((params = match('/vault/:id', path))) page = <ItemPage id={params.id!} />;
  else if (path === '/health') page = <HealthPage />;
  else if ((params = match('/health/labs/:code', path))) page = <LabTrendPage code={params.code!} />;
  else if (path === '/chat') page = <ChatPage chatId={null} />;
  else if ((params = match('/chat/:id', path))) page = <ChatPage chatId={params.id!} />;
  else if (path === '/settings') page = <SettingsPage />;
  else if (path === '/connections') page = <ConnectionsPage />;
  else page = <NotFound />;

  return (
    <Shell>
      <Suspense fallback={<Loading />}>{page}</Suspense>
    </Shell>
  );
}

function NotFound() {
  usePageTitle('Page not found');
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-stone-600">That address does not lead anywhere in your vault.</p>
    </div>
  );
}

export function App() {
  useEffect(() => guardFileDrops(), []);
  return (
    <RouterProvider>
      <SessionProvider>
        <Routes />
      </SessionProvider>
    </RouterProvider>
  );
}
