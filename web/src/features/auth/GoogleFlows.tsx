import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { User } from '../../api/types';
import { Link, useRouter } from '../../app/router';
import { useSession } from '../../app/session';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { usePageTitle } from '../../components/usePageTitle';
import { AuthLayout } from './AuthLayout';
import { LostPassphraseWarning } from './PassphraseStrength';
import { AccountCreated } from './RecoveryKeyDialog';
import { NewPassphraseFields, validateNewPassphrase } from './SignUp';
import { useSignupPolicy } from './useSignupPolicy';

/** First Google sign-in: the identity is proven, now choose the passphrase that encrypts the vault. */
export function Welcome() {
  usePageTitle('Welcome');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ user: User; recoveryKey: string } | null>(null);
  const [inviteCode, setInviteCode] = useState('');
  const policy = useSignupPolicy();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (policy === 'invite' && !inviteCode.trim()) return setError(new Error('Enter the invite code you were given.'));
    const problem = validateNewPassphrase(passphrase, confirm);
    if (problem) return setError(new Error(problem));
    setBusy(true);
    setError(null);
    try {
      setCreated(
        await api.post<{ user: User; recoveryKey: string }>(
          '/api/auth/google/register',
          policy === 'invite' ? { passphrase, inviteCode: inviteCode.trim() } : { passphrase },
          { quiet401: true },
        ),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Welcome — choose your vault passphrase"
      subtitle="Google confirmed who you are. Your passphrase is what encrypts your vault; Google never sees it."
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {policy === 'invite' && (
          <TextField
            label="Invite code"
            autoComplete="off"
            spellCheck={false}
            required
            value={inviteCode}
            onChange={(e) => setInviteCode(e.target.value)}
            inputClassName="font-mono"
          />
        )}
        <NewPassphraseFields passphrase={passphrase} confirm={confirm} onPassphrase={setPassphrase} onConfirm={setConfirm} />
        <LostPassphraseWarning />
        <ErrorText error={error} />
        <Button type="submit" className="w-full" busy={busy}>
          Create account
        </Button>
      </form>
      {created && <AccountCreated created={created} />}
    </AuthLayout>
  );
}

/** Returning Google sign-in: unlock the vault with the passphrase. */
export function Unlock() {
  usePageTitle('Unlock');
  const { setUser } = useSession();
  const { navigate } = useRouter();
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ user: User }>('/api/auth/unlock', { passphrase }, { quiet401: true });
      setUser(res.user);
      navigate('/vault', { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Unlock your vault"
      subtitle="Signed in with Google. Enter your vault passphrase to decrypt your data."
      footer={
        <Link to="/recover" className="font-medium text-teal-800 underline-offset-2 hover:underline">
          Forgot your passphrase?
        </Link>
      }
    >
      <form onSubmit={submit} className="space-y-4">
        <TextField
          label="Passphrase"
          type="password"
          autoComplete="current-password"
          required
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
        />
        <ErrorText error={error} />
        <Button type="submit" className="w-full" busy={busy}>
          Unlock
        </Button>
      </form>
    </AuthLayout>
  );
}
