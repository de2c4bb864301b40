import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthorized } from '../api/client';
import type { User } from '../api/types';
import { clearKeptDrafts, savePendingEdits } from '../features/vault/keptDrafts';
import { forgetVaultWords } from '../features/vault/vaultLocation';
import { markSignedOut } from './SignedOutNotice';

interface SessionState {
  user: User | null;
  loading: boolean;
  /** The server could not be reached at start-up (offline, or the app shell served by the service worker). */
  unreachable: boolean;
  setUser: (u: User | null) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children, initialUser }: { children: ReactNode; initialUser?: User | null }) {
  const [user, setUser] = useState<User | null>(initialUser ?? null);
  const [loading, setLoading] = useState(initialUser === undefined);
  const [unreachable, setUnreachable] = useState(false);

  useEffect(() => {
    if (initialUser !== undefined) return;
    let live = true;
    api
      .get<{ user: User }>('/api/auth/me', { quiet401: true })
      .then((r) => live && setUser(r.user))
      .catch((e) => {
        if (!live) return;
        setUser(null);
        if (e instanceof ApiError && e.code === 'network_error') setUnreachable(true);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [initialUser]);

  const signedIn = useRef(false);
  signedIn.current = user !== null;
  useEffect(
    () =>
      onUnauthorized(() => {
        // Only a session that was in use ended; a 401 on the way to signing in says nothing.
        if (signedIn.current) markSignedOut();
        setUser(null);
      }),
    [],
  );

  // Edits kept across an ended session, and the vault's search words, are for the account that
  // wrote them: signing out on purpose, or another account signing in at this tab, lets go of them.
  const lastUserId = useRef<string | null>(null);
  useEffect(() => {
    if (!user) return;
    if (lastUserId.current !== null && lastUserId.current !== user.id) {
      clearKeptDrafts();
      forgetVaultWords();
    }
    lastUserId.current = user.id;
  }, [user]);

  const signOut = useCallback(async () => {
    try {
      // An edit typed within the autosave pause is saved while the session can still save it.
      await savePendingEdits();
      await api.post('/api/auth/logout', {}, { quiet401: true });
    } finally {
      clearKeptDrafts();
      forgetVaultWords();
      setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, loading, unreachable, setUser, signOut }), [user, loading, unreachable, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}
