import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client';
import type { User } from '../../api/types';
import { Link, useQueryParam, useRouter } from '../../app/router';
import { useSession } from '../../app/session';
import { Button } from '../../components/ui/Button';
import { ErrorText, Notice } from '../../components/ui/Feedback';
import { hasKeptDrafts } from '../vault/keptDrafts';
import { TextField } from '../../components/ui/Field';
import { isWrongCredentials, useFieldError } from '../../components/useFieldError';
import { AuthLayout } from './AuthLayout';
import { GoogleButton, googleErrorMessage } from './GoogleButton';
import { usePageTitle } from '../../components/usePageTitle';

export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/api') ? next : '/vault';
}

export function SignIn() {
  usePageTitle('Sign in');
  const { setUser } = useSession();
  const { navigate } = useRouter();
  const next = useQueryParam('next');
  const googleError = googleErrorMessage(useQueryParam('error'));
  const [email, setEmail] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<unknown>(googleError ? new Error(googleError) : null);
  const [busy, setBusy] = useState(false);
  const [keptEdits] = useState(hasKeptDrafts);
  // Either may be wrong (the server does not say which): both are marked, the passphrase focused.
  const { errorId, field } = useFieldError(error, (e) => (isWrongCredentials(e) ? (['passphrase', 'email'] as const) : []));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ user: User }>('/api/auth/login', { email, passphrase }, { quiet401: true });
      setUser(res.user);
      navigate(safeNext(next), { replace: true });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 && err.code.startsWith('http_') ? new Error('That email and passphrase do not match.') : err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Sign in"
      subtitle="Unlock your vault with your passphrase."
      footer={
        <div className="space-y-1">
          <p>
            New here?{' '}
            <Link to="/signup" className="font-medium text-teal-800 underline-offset-2 hover:underline">
              Create a vault
            </Link>
          </p>
          <p>
            Forgot your passphrase?{' '}
            <Link to="/recover" className="font-medium text-teal-800 underline-offset-2 hover:underline">
              Use your recovery key
            </Link>
          </p>
        </div>
      }
    >
      {keptEdits && (
        <Notice tone="warning" title="Your unsaved changes are kept" className="mb-4">
          Your session ended before they were saved. They are kept in this tab only: sign in again to save them, and do not reload or close the page.
        </Notice>
      )}
      <form onSubmit={submit} className="space-y-4">
        <TextField label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} {...field('email')} />
        <TextField
          label="Passphrase"
          type="password"
          autoComplete="current-password"
          required
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
          {...field('passphrase')}
        />
        <ErrorText error={error} id={errorId} />
        <Button type="submit" className="w-full" busy={busy}>
          Sign in
        </Button>
      </form>
      <GoogleButton />
    </AuthLayout>
  );
}
