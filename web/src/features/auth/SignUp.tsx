import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client';
import type { User } from '../../api/types';
import { Link } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { ErrorText, Notice } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { AuthLayout } from './AuthLayout';
import { GoogleButton } from './GoogleButton';
import { LostPassphraseWarning, PassphraseStrength } from './PassphraseStrength';
import { AccountCreated } from './RecoveryKeyDialog';
import { charCount, estimateStrength, MIN_LENGTH } from './passphrase-strength';
import { useSignupPolicy } from './useSignupPolicy';
import { usePageTitle } from '../../components/usePageTitle';
import { useFieldError } from '../../components/useFieldError';

/** Passphrase + confirmation + strength + warning; shared by sign-up and Google's /welcome. */
export function NewPassphraseFields({
  passphrase,
  confirm,
  onPassphrase,
  onConfirm,
  email,
  label = 'Passphrase',
}: {
  passphrase: string;
  confirm: string;
  onPassphrase: (v: string) => void;
  onConfirm: (v: string) => void;
  email?: string;
  label?: string;
}) {
  const strengthId = useId();
  const mismatch = confirm.length > 0 && confirm !== passphrase;
  return (
    <>
      <div>
        <TextField
          label={label}
          type="password"
          autoComplete="new-password"
          required
          // UTF-16 units, so never stricter than the count below; kept for password managers.
          minLength={MIN_LENGTH}
          value={passphrase}
          onChange={(e) => onPassphrase(e.target.value)}
          aria-describedby={strengthId}
        />
        <PassphraseStrength id={strengthId} passphrase={passphrase} email={email} />
      </div>
      <TextField
        label="Re-enter to confirm"
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={(e) => onConfirm(e.target.value)}
        error={mismatch ? 'The two passphrases do not match.' : null}
      />
    </>
  );
}

export function validateNewPassphrase(passphrase: string, confirm: string, email?: string): string | null {
  if (charCount(passphrase) < MIN_LENGTH) return `Your passphrase needs at least ${MIN_LENGTH} characters.`;
  if (!estimateStrength(passphrase, email).acceptable) return 'That passphrase is too easy to guess. Try four or more unrelated words.';
  if (passphrase !== confirm) return 'The two passphrases do not match.';
  return null;
}

export function SignUp() {
  usePageTitle('Create your vault');
  const [email, setEmail] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ user: User; recoveryKey: string } | null>(null);
  const [inviteCode, setInviteCode] = useState('');
  const policy = useSignupPolicy();
  const { errorId, field } = useFieldError(error, (e) =>
    e instanceof ApiError && e.code === 'email_taken'
      ? (['email'] as const)
      : e instanceof ApiError && e.status === 403 && policy === 'invite'
        ? (['invite'] as const)
        : [],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (policy === 'invite' && !inviteCode.trim()) return setError(new Error('Enter the invite code you were given.'));
    // The form is noValidate (for our own wording), so the email is checked here, first.
    if (!email.trim()) return setError(new Error('Enter your email address.'));
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) return setError(new Error('Enter a full email address, like name@example.org.'));
    const problem = validateNewPassphrase(passphrase, confirm, email);
    if (problem) return setError(new Error(problem));
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ user: User; recoveryKey: string }>(
        '/api/auth/register',
        policy === 'invite' ? { email, passphrase, inviteCode: inviteCode.trim() } : { email, passphrase },
        { quiet401: true },
      );
      setCreated(res);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Create your vault"
      subtitle="A private place for your documents, notes and health records."
      footer={
        <>
          Already have a vault?{' '}
          <Link to="/signin" className="font-medium text-teal-800 underline-offset-2 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      {policy === 'closed' ? (
        <Notice tone="info">Sign-up is closed on this server. Ask the person who runs it for an account.</Notice>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate>
          {policy === 'invite' && (
            <TextField
              label="Invite code"
              autoComplete="off"
              spellCheck={false}
              required
              value={inviteCode}
              onChange={(e) => setInviteCode(e.target.value)}
              hint="This server creates accounts by invitation. The code looks like CVI-XXXXX-…"
              inputClassName="font-mono"
              {...field('invite')}
            />
          )}
          <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} {...field('email')} />
          <NewPassphraseFields passphrase={passphrase} confirm={confirm} onPassphrase={setPassphrase} onConfirm={setConfirm} email={email} />
          <LostPassphraseWarning />
          <ErrorText error={error} id={errorId} />
          <Button type="submit" className="w-full" busy={busy}>
            Create account
          </Button>
        </form>
      )}
      {policy !== 'closed' && <GoogleButton />}
      {created && <AccountCreated created={created} />}
    </AuthLayout>
  );
}
