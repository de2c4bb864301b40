/**
 * "This account's recovery key was shown but not confirmed as saved": a reload or a closed tab
 * during sign-up must not leave the account without a key nobody remembers. Only the user id is
 * stored, never the key itself.
 */
const KEY = (userId: string) => `cv.recoveryKeyUnconfirmed.${userId}`;
/** Fired when any recovery key dialog is confirmed (sign-up, or a new key from Settings). */
export const RECOVERY_KEY_SAVED = 'cv:recovery-key-saved';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function markRecoveryKeyUnconfirmed(userId: string): void {
  try {
    storage()?.setItem(KEY(userId), '1');
  } catch {
    /* storage full or blocked: the dialog itself still insists */
  }
}

export function clearRecoveryKeyReminder(userId: string): void {
  try {
    storage()?.removeItem(KEY(userId));
  } catch {
    /* nothing to clear */
  }
}

export function recoveryKeyUnconfirmed(userId: string): boolean {
  try {
    return storage()?.getItem(KEY(userId)) === '1';
  } catch {
    return false;
  }
}
