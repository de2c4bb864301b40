import { useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Card, ErrorText, Notice } from '../../components/ui/Feedback';
import { formatDateTime } from '../../components/format';
import type { Invite, InviteAccess } from '../../api/types';

/**
 * Admin accounts create single-use invite codes (SIGNUP=invite); hidden for everyone else, who
 * are never sent to `/api/invites` (which answers them 403).
 */
export function Invites() {
  const [invites, setInvites] = useState<Invite[] | null>(null);
  /** Unknown until the server says; the card shows only for an admin, so a member never sees it flash. */
  const [admin, setAdmin] = useState<boolean | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    api
      .get<{ invites: Invite[] }>('/api/invites')
      .then((r) => setInvites(r.invites))
      .catch((e) => {
        if (e instanceof ApiError && (e.status === 403 || e.status === 404)) setAdmin(false);
        else setError(e);
      });
  useEffect(() => {
    api
      .get<InviteAccess>('/api/invites/access')
      .then((r) => {
        setAdmin(r.admin);
        if (r.admin) return load();
      })
      .catch(setError);
  }, []);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ code: string }>('/api/invites', {});
      setCode(r.code);
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // A failed question shows its error rather than nothing.
  if (admin === false || (admin === null && !error)) return null;
  return (
    <Card title="Invites" description="Each code lets one person create an account on this server (when sign-up is by invitation). Codes expire after 7 days.">
      <ErrorText error={error} className="mb-4" />
      {code && (
        <Notice tone="success" className="mb-4" title="New invite code (shown once)">
          <code data-testid="invite-code" className="select-all font-mono">
            {code}
          </code>
        </Notice>
      )}
      <Button onClick={create} busy={busy}>
        Create invite code
      </Button>
      {invites && invites.length > 0 && (
        <ul className="mt-4 divide-y divide-stone-100 text-sm">
          {invites.map((i) => (
            <li key={i.id} className="py-2 text-stone-700">
              Created {formatDateTime(i.createdAt)} ·{' '}
              {i.usedAt ? `used ${formatDateTime(i.usedAt)}` : new Date(i.expiresAt) < new Date() ? 'expired' : `valid until ${formatDateTime(i.expiresAt)}`}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
