import type { User } from '../../api/types';
import { useRouter } from '../../app/router';
import { useSession } from '../../app/session';
import { useEffect, useId, useState } from 'react';
import { saveBlob } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { clearRecoveryKeyReminder, markRecoveryKeyUnconfirmed, RECOVERY_KEY_SAVED } from './recoveryKeyReminder';

export function RecoveryKeyDialog({ recoveryKey, email, open, onDone }: { recoveryKey: string; email: string; open: boolean; onDone: () => void }) {
  const [ack, setAck] = useState(false);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const checkId = useId();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(recoveryKey);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  const download = () => {
    const text = [
      'Context Vault recovery key',
      '',
      `Account: ${email}`,
      `Created: ${new Date().toISOString().slice(0, 10)}`,
      '',
      recoveryKey,
      '',
      'Keep this somewhere safe and offline (a password manager or a printed copy).',
      'With it you can reset your passphrase. Without it and your passphrase, your data cannot be recovered.',
      '',
    ].join('\n');
    saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), 'context-vault-recovery-key.txt');
  };

  return (
    <Dialog
      open={open}
      modal="required"
      title="Save your recovery key"
      description="This is the only way back into your vault if you forget your passphrase. It is shown once."
      wide
    >
      <div className="rounded-lg border border-stone-200 bg-stone-50 p-4">
        <p className="sr-only">Recovery key</p>
        <code data-testid="recovery-key" className="block select-all break-words font-mono text-base leading-relaxed tracking-wide text-stone-900">
          {/* Line breaks only between groups, never inside one. */}
          {recoveryKey.split('-').map((g, i, all) => (
            <span key={i}>
              {g}
              {i < all.length - 1 && (
                <>
                  -<wbr />
                </>
              )}
            </span>
          ))}
        </code>
      </div>
      <div className="mt-3 flex flex-wrap gap-2">
        <Button variant="secondary" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
        <Button variant="secondary" onClick={download}>
          Download as text file
        </Button>
        <span role="status" className="self-center text-sm text-stone-600">
          {copied === 'yes' ? 'Recovery key copied to the clipboard.' : copied === 'failed' ? 'Copying failed — select the key and copy it by hand.' : ''}
        </span>
      </div>
      <p className="mt-4 text-sm text-amber-900">
        Store it away from this device: in a password manager or on paper. If you lose both your passphrase and this key, your data cannot be recovered by
        anyone.
      </p>
      <div className="mt-4 flex items-start gap-2">
        <input
          id={checkId}
          type="checkbox"
          className="mt-0.5 h-4 w-4 rounded border-stone-400 accent-teal-700"
          checked={ack}
          onChange={(e) => setAck(e.target.checked)}
        />
        <label htmlFor={checkId} className="text-sm font-medium text-stone-800">
          I have saved my recovery key
        </label>
      </div>
      <div className="mt-5 flex justify-end">
        <Button
          onClick={() => {
            window.dispatchEvent(new Event(RECOVERY_KEY_SAVED));
            onDone();
          }}
          disabled={!ack}
        >
          Continue
        </Button>
      </div>
    </Dialog>
  );
}

/**
 * The last step of any sign-up: the recovery key must be acknowledged before the new account
 * becomes the session and the vault opens.
 */
export function AccountCreated({ created }: { created: { user: User; recoveryKey: string } }) {
  const { setUser } = useSession();
  const { navigate } = useRouter();
  // The account exists and its session cookie is set: a reload now would open the vault with
  // the key never confirmed, so remember (the fact, not the key) until it is.
  useEffect(() => markRecoveryKeyUnconfirmed(created.user.id), [created.user.id]);
  return (
    <RecoveryKeyDialog
      open
      email={created.user.email}
      recoveryKey={created.recoveryKey}
      onDone={() => {
        clearRecoveryKeyReminder(created.user.id);
        setUser(created.user);
        navigate('/vault', { replace: true });
      }}
    />
  );
}
