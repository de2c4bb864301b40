import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Card, ErrorText, Notice } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { isWrongCredentials, useFieldError } from '../../components/useFieldError';
import { RecoveryKeyDialog } from '../auth/RecoveryKeyDialog';
import { activityChanged } from './Activity';

/**
 * Replaces the recovery key (passphrase required). The new key is shown once, in the same
 * must-acknowledge dialog as at sign-up; the old key stops working at once.
 */
export function NewRecoveryKey({ email }: { email: string }) {
  const [asking, setAsking] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const { errorId, field } = useFieldError(error, (e) => (isWrongCredentials(e) ? (['passphrase'] as const) : []));

  const close = () => {
    setAsking(false);
    setPassphrase('');
    setError(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ recoveryKey: string }>('/api/auth/recovery-key', { passphrase });
      close();
      setDone(false);
      setCreated(r.recoveryKey);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      // A wrong passphrase is an event too.
      activityChanged();
    }
  };

  return (
    <Card title="Recovery key" description="Lost your recovery key, or think someone saw it? Create a new one: the old key stops working at once.">
      {done && (
        <Notice tone="success" className="mb-4">
          Your new recovery key is active. The old one no longer works.
        </Notice>
      )}
      <Button variant="secondary" onClick={() => setAsking(true)}>
        Create a new recovery key…
      </Button>
      <Dialog
        open={asking}
        onOpenChange={(o) => (o ? setAsking(true) : close())}
        title="Create a new recovery key?"
        description="Your current recovery key will stop working. Enter your passphrase to continue."
      >
        <form onSubmit={submit} className="space-y-4">
          <TextField
            label="Your passphrase"
            type="password"
            autoComplete="current-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            {...field('passphrase')}
          />
          <ErrorText error={error} id={errorId} />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" busy={busy} disabled={!passphrase}>
              Create new key
            </Button>
          </div>
        </form>
      </Dialog>
      {created && (
        <RecoveryKeyDialog
          open
          email={email}
          recoveryKey={created}
          onDone={() => {
            setCreated(null);
            setDone(true);
          }}
        />
      )}
    </Card>
  );
}
