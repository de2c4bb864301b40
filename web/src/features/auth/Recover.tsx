import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { User } from '../../api/types';
import { Link, useRouter } from '../../app/router';
import { useSession } from '../../app/session';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { isWrongCredentials, useFieldError } from '../../components/useFieldError';
import { AuthLayout } from './AuthLayout';
import { NewPassphraseFields, validateNewPassphrase } from './SignUp';
import { usePageTitle } from '../../components/usePageTitle';

export function Recover() {
  usePageTitle('Recover your vault');
  const { setUser } = useSession();
  const { navigate } = useRouter();
  const [email, setEmail] = useState('');
  const [recoveryKey, setRecoveryKey] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Either may be wrong (the server does not say which): both are marked, the key focused.
  const { errorId, field } = useFieldError(error, (e) => (isWrongCredentials(e) ? (['recoveryKey', 'email'] as const) : []));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = validateNewPassphrase(next, confirm, email);
    if (problem) return setError(new Error(problem));
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ user: User }>('/api/auth/recover', { email, recoveryKey: recoveryKey.trim(), next }, { quiet401: true });
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
      title="Recover your vault"
      subtitle="Use the recovery key you saved when you created your vault to set a new passphrase."
      footer={
        <Link to="/signin" className="font-medium text-teal-800 underline-offset-2 hover:underline">
          Back to sign in
        </Link>
      }
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        <TextField label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} {...field('email')} />
        <TextField
          label="Recovery key"
          autoComplete="off"
          spellCheck={false}
          required
          value={recoveryKey}
          onChange={(e) => setRecoveryKey(e.target.value)}
          inputClassName="font-mono"
          {...field('recoveryKey')}
        />
        <NewPassphraseFields label="New passphrase" passphrase={next} confirm={confirm} onPassphrase={setNext} onConfirm={setConfirm} email={email} />
        <ErrorText error={error} id={errorId} />
        <Button type="submit" className="w-full" busy={busy}>
          Set new passphrase
        </Button>
      </form>
    </AuthLayout>
  );
}
