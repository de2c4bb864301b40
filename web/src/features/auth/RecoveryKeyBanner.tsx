import { useEffect, useState } from 'react';
import { Link } from '../../app/router';
import { useSession } from '../../app/session';
import { Button } from '../../components/ui/Button';
import { Notice } from '../../components/ui/Feedback';
import { clearRecoveryKeyReminder, RECOVERY_KEY_SAVED, recoveryKeyUnconfirmed } from './recoveryKeyReminder';

/** Shown in the app until a recovery key shown at sign-up but never confirmed is replaced, or the person knowingly waves it off. */
export function RecoveryKeyBanner() {
  const { user } = useSession();
  const userId = user?.id ?? null;
  const [show, setShow] = useState(() => (userId ? recoveryKeyUnconfirmed(userId) : false));
  const [asking, setAsking] = useState(false);

  useEffect(() => {
    setShow(userId ? recoveryKeyUnconfirmed(userId) : false);
    if (!userId) return;
    // A new key made in Settings and confirmed there replaces the lost one.
    const saved = () => {
      clearRecoveryKeyReminder(userId);
      setShow(false);
    };
    window.addEventListener(RECOVERY_KEY_SAVED, saved);
    return () => window.removeEventListener(RECOVERY_KEY_SAVED, saved);
  }, [userId]);

  if (!show || !userId) return null;
  const dismiss = () => {
    clearRecoveryKeyReminder(userId);
    setShow(false);
  };
  return (
    <div className="mx-auto max-w-6xl px-4 pt-4">
      <Notice tone="warning" title="Your recovery key was not confirmed as saved">
        {asking ? (
          <>
            <p>Without a recovery key, a forgotten passphrase means your vault cannot be opened again by anyone. Hide this reminder anyway?</p>
            <div className="mt-2 flex flex-wrap gap-2">
              <Button size="sm" variant="secondary" onClick={() => setAsking(false)}>
                Keep the reminder
              </Button>
              <Button size="sm" variant="ghost" onClick={dismiss}>
                I have my key, hide this
              </Button>
            </div>
          </>
        ) : (
          <>
            <p>If you did not keep it, make a new one now: it is the only way back in if you forget your passphrase.</p>
            <div className="mt-2 flex flex-wrap items-center gap-3">
              <Link
                to="/settings"
                className="inline-flex h-8 items-center rounded-lg bg-teal-700 px-3 text-sm font-medium text-white hover:bg-teal-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-teal-600"
              >
                Settings → Create a new recovery key
              </Link>
              <Button size="sm" variant="ghost" onClick={() => setAsking(true)}>
                Dismiss…
              </Button>
            </div>
          </>
        )}
      </Notice>
    </div>
  );
}
