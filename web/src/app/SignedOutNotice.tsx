import { useEffect, useState } from 'react';

// Kept in the tab's session storage so the notice survives the redirect, and a reload of the
// sign-in page (or a sign-out the user asked for) does not repeat it.
const KEY = 'cv-signed-out';

/** Remembers that the server ended this session (it answered 401 while signed in). */
export function markSignedOut(): void {
  try {
    sessionStorage.setItem(KEY, '1');
  } catch {
    /* storage blocked: the sign-in page simply shows no notice */
  }
}

function take(): boolean {
  try {
    return sessionStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

/**
 * On the sign-in page after the session ended elsewhere (signed out from another browser, the
 * account deleted, the session expired): says why the user is here. The client only sees a 401,
 * so the reason stays general.
 */
export function SignedOutNotice() {
  const [shown] = useState(take);
  useEffect(() => {
    if (!shown) return;
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      /* nothing to clear */
    }
  }, [shown]);
  if (!shown) return null;
  return (
    <div role="status" className="mx-auto mt-6 max-w-md rounded-lg border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900" data-testid="signed-out">
      You were signed out. This can happen when your session ends, you sign out on another device, or the account is deleted. Sign in again to continue.
    </div>
  );
}
