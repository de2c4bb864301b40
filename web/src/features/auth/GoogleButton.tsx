import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { leave } from '../../app/leave';

let providers: Promise<{ google: boolean }> | null = null;

/** Which sign-in providers the server offers (GET /api/auth/providers), asked once per page load. */
export function useGoogleAvailable(): boolean {
  const [ok, setOk] = useState(false);
  useEffect(() => {
    let live = true;
    providers ??= api.get<{ google: boolean }>('/api/auth/providers', { quiet401: true }).catch(() => {
      providers = null;
      return { google: false };
    });
    void providers.then((p) => live && setOk(p.google === true));
    return () => {
      live = false;
    };
  }, []);
  return ok;
}

/** Test hook: forget the cached answer. */
export function resetProvidersCache(): void {
  providers = null;
}

export function GoogleButton() {
  const available = useGoogleAvailable();
  if (!available) return null;
  return (
    <>
      <div className="my-5 flex items-center gap-3 text-xs text-stone-500">
        <div className="h-px flex-1 bg-stone-200" /> or <div className="h-px flex-1 bg-stone-200" />
      </div>
      <button
        type="button"
        onClick={() => leave.assign('/api/auth/google')}
        className="flex h-10 w-full items-center justify-center gap-2 rounded-lg border border-stone-300 bg-white text-sm font-medium text-stone-800 shadow-sm hover:bg-stone-50 focus-visible:outline-2 focus-visible:outline-teal-600"
      >
        <svg viewBox="0 0 24 24" className="h-4 w-4" aria-hidden="true">
          <path fill="#4285F4" d="M22.5 12.3c0-.8-.1-1.6-.2-2.3H12v4.4h5.9a5 5 0 0 1-2.2 3.3v2.7h3.6c2-1.9 3.2-4.7 3.2-8.1z" />
          <path fill="#34A853" d="M12 23c3 0 5.5-1 7.3-2.7l-3.6-2.7c-1 .7-2.2 1.1-3.7 1.1-2.9 0-5.3-1.9-6.2-4.6H2.1v2.8A11 11 0 0 0 12 23z" />
          <path fill="#FBBC05" d="M5.8 14.1a6.6 6.6 0 0 1 0-4.2V7.1H2.1a11 11 0 0 0 0 9.8l3.7-2.8z" />
          <path fill="#EA4335" d="M12 5.4c1.6 0 3.1.6 4.2 1.7l3.2-3.2A11 11 0 0 0 2.1 7.1l3.7 2.8C6.7 7.3 9.1 5.4 12 5.4z" />
        </svg>
        Sign in with Google
      </button>
      <p className="mt-2 text-xs text-stone-500">Google confirms who you are; your passphrase still unlocks the vault.</p>
    </>
  );
}

const GOOGLE_ERRORS: Record<string, string> = {
  not_configured: 'Google sign-in is not set up on this server.',
  access_denied: 'Google sign-in was cancelled, so you were not signed in.',
  state_mismatch: 'The Google sign-in could not be matched to this browser (it may have expired or been started in another tab). Please try again.',
  invalid_state: 'The Google sign-in could not be matched to this browser. Please try again.',
  invalid_id_token: 'Google’s answer could not be verified, so you were not signed in. Please try again.',
  provider_error: 'Google could not complete the sign-in. Please try again in a moment.',
  google_already_linked: 'That Google account is already linked to another vault. Sign in to that vault and unlink it there first.',
  no_pending_sign_in: 'Your Google sign-in expired. Please sign in with Google again.',
};

export function googleErrorMessage(code: string | null): string | null {
  if (!code) return null;
  return GOOGLE_ERRORS[code] ?? 'Google sign-in did not complete. Please try again.';
}
