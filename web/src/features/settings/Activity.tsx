import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Card, ErrorText } from '../../components/ui/Feedback';
import { formatDateTime } from '../../components/format';
import type { ActivityEvent } from '../../api/types';

/** What each audit action means to the person reading it. */
const LABELS: Record<string, string> = {
  register: 'Account created',
  login: 'Signed in',
  login_failed: 'Failed sign-in attempt',
  logout: 'Signed out',
  passphrase_changed: 'Passphrase changed',
  recovered: 'Account recovered with the recovery key',
  recover_failed: 'Failed recovery attempt',
  recovery_key_rotated: 'New recovery key made',
  session_revoked: 'A session was ended',
  other_sessions_revoked: 'All other sessions were ended',
  export: 'Vault export started',
  export_failed: 'Vault export failed (the download ended short)',
  export_incomplete: 'Vault exported without files missing from storage',
  import: 'Export imported',
  integration_connected: 'Connection added',
  integration_disconnected: 'Connection removed',
  integration_synced: 'Connection synced',
  integration_sync_failed: 'Connection sync failed',
  summary_created: 'Patient summary made',
  token_created: 'API token created',
  token_used: 'API token used',
  token_revoked: 'API token revoked',
  passphrase_change_failed: 'Failed passphrase change (wrong current passphrase)',
  recovery_key_rotation_failed: 'Failed attempt to make a new recovery key',
  account_deletion_failed: 'Failed attempt to delete the account',
  google_linked: 'Google sign-in linked',
  google_unlinked: 'Google sign-in unlinked',
};

/** Failed attempts stand out: they are what a person scans this list for. */
const WARN = new Set([
  'login_failed',
  'recover_failed',
  'integration_sync_failed',
  'export_failed',
  'passphrase_change_failed',
  'recovery_key_rotation_failed',
  'account_deletion_failed',
]);

const CHANGED = 'cv:activity-changed';

/**
 * Called by the Settings cards after an action that the server records (a new recovery key, a
 * token, ended sessions, a wrong passphrase): the list reloads once then, instead of polling.
 */
export function activityChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

export const activityLabel = (action: string) => LABELS[action] ?? action.replace(/_/g, ' ');

export function Activity() {
  const [events, setEvents] = useState<ActivityEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Only the latest load is shown: a reload started by an action must not be overwritten by an older answer.
  const latest = useRef(0);

  const load = useCallback(async (after: string | null) => {
    const mine = ++latest.current;
    setBusy(true);
    setError(null);
    try {
      const page = await api.get<{ events: ActivityEvent[]; nextCursor: string | null }>(
        `/api/activity?limit=20${after ? `&cursor=${encodeURIComponent(after)}` : ''}`,
      );
      if (mine !== latest.current) return;
      setEvents((prev) => (after && prev ? [...prev, ...page.events] : page.events));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void load(null);
    const reload = () => void load(null);
    window.addEventListener(CHANGED, reload);
    return () => window.removeEventListener(CHANGED, reload);
  }, [load]);

  return (
    <Card
      title="Activity"
      description="Security events on your account: sign-ins and failed attempts, passphrase and recovery-key changes, exports, connections, API tokens and ended sessions. Only you can see this."
    >
      <ErrorText error={error} />
      {events && events.length === 0 && <p className="text-sm text-stone-500">No activity yet.</p>}
      {events && events.length > 0 && (
        <ul className="divide-y divide-stone-100 text-sm" data-testid="activity-list">
          {events.map((e, i) => (
            <li key={`${e.at}-${i}`} className="flex flex-wrap items-baseline justify-between gap-2 py-2" data-action={e.action}>
              <span className={WARN.has(e.action) ? 'font-medium text-red-700' : 'text-stone-800'}>
                {activityLabel(e.action)}
                {e.connection && <span className="ml-2 text-stone-600">{e.connection.label}</span>}
                {e.client && <span className="ml-2 text-xs text-stone-500">{e.client}</span>}
              </span>
              <time dateTime={e.at} className="text-xs text-stone-500">
                {formatDateTime(e.at)}
              </time>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <Button size="sm" variant="secondary" className="mt-3" busy={busy} onClick={() => void load(cursor)}>
          Show older
        </Button>
      )}
    </Card>
  );
}
