import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

interface RouterState {
  path: string;
  search: string;
  navigate: (to: string, opts?: { replace?: boolean }) => void;
  /** Registers a question to ask before the user leaves the page; returns its removal. */
  guard: (message: string) => () => void;
}

const RouterContext = createContext<RouterState | null>(null);

function current(): { path: string; search: string } {
  return { path: window.location.pathname, search: window.location.search };
}

/** True when nothing asks to stay, or the user agreed to leave. */
function mayLeave(guards: Set<{ message: string }>): boolean {
  const first = guards.values().next().value;
  return !first || window.confirm(first.message);
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(current);
  const guards = useRef(new Set<{ message: string }>());
  const shown = useRef(loc);
  shown.current = loc;
  useEffect(() => {
    const onPop = () => {
      if (!mayLeave(guards.current)) {
        // Back or Forward already changed the URL: put back the page still on screen.
        const { path, search } = shown.current;
        window.history.pushState(null, '', path + search);
        return;
      }
      setLoc(current());
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to: string, opts?: { replace?: boolean }) => {
    if (to === window.location.pathname + window.location.search) return;
    // Replacing is the app's own doing (redirects, a saved chat's new address), never the user leaving.
    if (!opts?.replace && !mayLeave(guards.current)) return;
    if (opts?.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    setLoc(current());
    if (!opts?.replace) window.scrollTo?.(0, 0);
  }, []);
  const guard = useCallback((message: string) => {
    const entry = { message };
    guards.current.add(entry);
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      e.returnValue = message;
    };
    window.addEventListener('beforeunload', onUnload);
    return () => {
      guards.current.delete(entry);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, []);
  const value = useMemo(() => ({ ...loc, navigate, guard }), [loc, navigate, guard]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterState {
  const ctx = useContext(RouterContext);
  if (!ctx) throw new Error('useRouter outside RouterProvider');
  return ctx;
}

/** While `message` is set, leaving the page (a link, Back, a reload, closing the tab) asks first. */
export function useLeaveWarning(message: string | null): void {
  const { guard } = useRouter();
  useEffect(() => (message ? guard(message) : undefined), [message, guard]);
}

export function useQueryParam(name: string): string | null {
  const { search } = useRouter();
  return new URLSearchParams(search).get(name);
}

/** Matches "/vault/:id" style patterns; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(s[i]!);
    else if (seg !== s[i]) return null;
  }
  return params;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const { navigate } = useRouter();
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
