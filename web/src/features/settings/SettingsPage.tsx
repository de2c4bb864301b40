import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError, saveBlob } from '../../api/client';
import type { SessionInfo } from '../../api/types';
import { leave } from '../../app/leave';
import { useRouter } from '../../app/router';
import { useSession } from '../../app/session';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Card, ErrorText, Notice, PageHeader } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { isWrongCredentials, useFieldError } from '../../components/useFieldError';
import { formatDateTime } from '../../components/format';
import { googleErrorMessage } from '../auth/GoogleButton';
import { NewPassphraseFields, validateNewPassphrase } from '../auth/SignUp';
import { Activity } from './Activity';
import { ApiTokens } from './ApiTokens';
import { Appearance } from './Appearance';
import { Invites } from './Invites';
import { ModelsSettings } from '../models/ModelsSettings';
import { NewRecoveryKey } from './NewRecoveryKey';
import { activityChanged } from './Activity';
import { usePageTitle } from '../../components/usePageTitle';

export function ChangePassphrase() {
  const { user } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const { errorId, field } = useFieldError(error, (e) => (isWrongCredentials(e) ? (['current'] as const) : []));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    const problem = validateNewPassphrase(next, confirm, user?.email);
    if (problem) return setError(new Error(problem));
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/auth/passphrase', { current, next });
      setDone(true);
      setCurrent('');
      setNext('');
      setConfirm('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      // A wrong current passphrase is an event too.
      activityChanged();
    }
  };

  return (
    <Card title="Change passphrase" description="Your vault is re-locked with the new passphrase. Other devices are signed out. Your recovery key stays valid.">
      <form onSubmit={submit} className="max-w-md space-y-4" noValidate>
        <TextField
          label="Current passphrase"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          {...field('current')}
        />
        <NewPassphraseFields label="New passphrase" passphrase={next} confirm={confirm} onPassphrase={setNext} onConfirm={setConfirm} email={user?.email} />
        <ErrorText error={error} id={errorId} />
        {done && <Notice tone="success">Passphrase changed.</Notice>}
        <Button type="submit" busy={busy}>
          Change passphrase
        </Button>
      </form>
    </Card>
  );
}

export function ExportVault() {
  const [mode, setMode] = useState<'passphrase' | 'recipient'>('passphrase');
  const [passphrase, setPassphrase] = useState('');
  // Typed twice, as at sign-up: a typo would make the file impossible to open.
  const [again, setAgain] = useState('');
  const [recipient, setRecipient] = useState('');
  const [includeTrash, setIncludeTrash] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const name = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (mode === 'passphrase' && passphrase.length < 10) return setError(new Error('Choose an export passphrase of at least 10 characters.'));
    if (mode === 'passphrase' && again !== passphrase)
      return setError(new Error('The two passphrases do not match. Type the same passphrase twice: without it the export cannot be opened.'));
    if (mode === 'recipient' && !/^age1[0-9a-z]{20,}$/.test(recipient.trim())) return setError(new Error('An age recipient starts with “age1”.'));
    setBusy(true);
    try {
      const body = { ...(mode === 'passphrase' ? { passphrase } : { recipient: recipient.trim() }), includeTrash };
      const { blob, filename } = await api.blob('/api/export', { method: 'POST', body });
      const fname = filename ?? `context-vault-export-${new Date().toISOString().slice(0, 10)}.age`;
      saveBlob(blob, fname);
      setDone(fname);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title="Export your vault"
      description="Download everything — items, chats and original files — as one encrypted file you can open with the standard age tool."
    >
      <form onSubmit={submit} className="max-w-md space-y-4">
        <fieldset>
          <legend className="mb-2 text-sm font-medium text-stone-700">Encrypt the export with</legend>
          <div className="flex flex-wrap gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name={name} checked={mode === 'passphrase'} onChange={() => setMode('passphrase')} className="accent-teal-700" />A passphrase
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name={name} checked={mode === 'recipient'} onChange={() => setMode('recipient')} className="accent-teal-700" />
              An age public key
            </label>
          </div>
        </fieldset>
        {mode === 'passphrase' ? (
          <>
            <TextField
              label="Export passphrase"
              type="password"
              autoComplete="new-password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              hint="You will need it to decrypt the file: age -d export.age"
            />
            <TextField
              label="Export passphrase again"
              type="password"
              autoComplete="new-password"
              value={again}
              onChange={(e) => setAgain(e.target.value)}
              error={again && passphrase.startsWith(again) ? null : again ? 'Does not match the passphrase above.' : null}
            />
          </>
        ) : (
          <TextField
            label="age recipient"
            placeholder="age1…"
            spellCheck={false}
            value={recipient}
            onChange={(e) => setRecipient(e.target.value)}
            inputClassName="font-mono"
          />
        )}
        <label className="flex items-center gap-2 text-sm text-stone-700">
          <input type="checkbox" checked={includeTrash} onChange={(e) => setIncludeTrash(e.target.checked)} className="accent-teal-700" />
          Include items in the trash (the export says whether it does)
        </label>
        <ErrorText error={error} />
        {done && <Notice tone="success">Export downloaded as {done}.</Notice>}
        <Button type="submit" busy={busy}>
          Export
        </Button>
      </form>
    </Card>
  );
}

/** Link a Google account for sign-in (it only says who you are; the passphrase still unlocks). */
function GoogleLink() {
  const { search, navigate } = useRouter();
  const [state, setState] = useState<{ configured: boolean; linked: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Back from Google: ?google=linked or ?error=<code>; shown once, then the address is cleaned.
  const [returned] = useState(() => {
    const p = new URLSearchParams(search);
    if (p.get('google') === 'linked') return { ok: true, text: 'Google is now linked. You can sign in with Google; your passphrase still unlocks the vault.' };
    const code = p.get('error');
    return code ? { ok: false, text: googleErrorMessage(code)! } : null;
  });
  useEffect(() => {
    const p = new URLSearchParams(search);
    if (p.has('google') || p.has('error')) navigate('/settings', { replace: true });
  }, [search, navigate]);

  useEffect(() => {
    api
      .get<{ configured: boolean; linked: boolean }>('/api/auth/google/link')
      .then(setState)
      .catch((e) => {
        if (e instanceof ApiError && e.status === 404) setState({ configured: false, linked: false });
        else setError(e);
      });
  }, []);

  const link = async () => {
    setBusy(true);
    setError(null);
    try {
      const { url } = await api.post<{ url: string }>('/api/auth/google/link');
      leave.assign(url);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const unlink = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.del('/api/auth/google/link');
      setState((s) => (s ? { ...s, linked: false } : s));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      activityChanged();
    }
  };

  if (state && !state.configured && !returned) return null;
  return (
    <Card
      title="Sign in with Google"
      description="Use your Google account to sign in. Google only confirms who you are: your passphrase is still needed to unlock the vault, and Google never sees it."
    >
      {returned &&
        (returned.ok ? (
          <Notice tone="success" className="mb-4">
            {returned.text}
          </Notice>
        ) : (
          <ErrorText error={new Error(returned.text)} className="mb-4" />
        ))}
      <ErrorText error={error} className="mb-4" />
      {state?.configured && (
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-stone-700">{state.linked ? 'Google is linked to this vault.' : 'Google is not linked.'}</p>
          {state.linked ? (
            <Button variant="secondary" onClick={unlink} busy={busy}>
              Unlink Google
            </Button>
          ) : (
            <Button onClick={link} busy={busy}>
              Link Google account
            </Button>
          )}
        </div>
      )}
    </Card>
  );
}

function Sessions() {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [hidden, setHidden] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<{ sessions: SessionInfo[] }>('/api/auth/sessions')
      .then((r) => setSessions(r.sessions ?? []))
      .catch((e) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) setHidden(true);
        else setError(e);
      });
  }, []);

  const revoke = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await api.del(`/api/auth/sessions/${encodeURIComponent(id)}`);
      setSessions((prev) => prev?.filter((s) => s.id !== id) ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
      activityChanged();
    }
  };

  const revokeOthers = async () => {
    setBusy('others');
    setError(null);
    try {
      await api.post('/api/auth/sessions/revoke-others');
      setSessions((prev) => prev?.filter((s) => s.current) ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
      activityChanged();
    }
  };

  if (hidden) return null;
  return (
    <Card title="Active sessions" description="Browsers currently signed in to your vault. Signing one out deletes its copy of your vault key.">
      <ErrorText error={error} />
      {sessions && sessions.some((s) => !s.current) && (
        <Button size="sm" variant="danger" className="mb-2" busy={busy === 'others'} onClick={revokeOthers}>
          End all other sessions
        </Button>
      )}
      {sessions && (
        <ul className="divide-y divide-stone-100 text-sm">
          {sessions.map((s) => (
            <li key={s.id} className="flex flex-wrap items-center justify-between gap-2 py-2.5">
              <span className="text-stone-800">
                {`Signed in ${formatDateTime(s.createdAt)}`}
                {s.current && <span className="ml-2 rounded bg-teal-50 px-1.5 py-0.5 text-xs font-medium text-teal-800">This browser</span>}
                <span className="block text-xs text-stone-500">Last active {formatDateTime(s.lastSeenAt)}</span>
              </span>
              {!s.current && (
                <Button size="sm" variant="secondary" busy={busy === s.id} onClick={() => revoke(s.id)}>
                  End session
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function DeleteAccount() {
  const { setUser } = useSession();
  const { navigate } = useRouter();
  const [open, setOpen] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [confirmText, setConfirmText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.del('/api/account', { passphrase });
      setUser(null);
      navigate('/signup', { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title="Delete account"
      description="Permanently delete your account, every item, file and conversation. This cannot be undone."
      className="border-red-200"
    >
      <Button variant="danger" onClick={() => setOpen(true)}>
        Delete account…
      </Button>
      <Dialog
        open={open}
        onOpenChange={(o) => {
          setOpen(o);
          if (!o) {
            setPassphrase('');
            setConfirmText('');
            setError(null);
          }
        }}
        title="Delete your account?"
        description="Everything in your vault will be erased from this server. Export it first if you want to keep a copy."
      >
        <form onSubmit={submit} className="space-y-4">
          <TextField
            label="Your passphrase"
            type="password"
            autoComplete="current-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
          <TextField label='Type "delete" to confirm' value={confirmText} onChange={(e) => setConfirmText(e.target.value)} autoComplete="off" />
          <ErrorText error={error} />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" busy={busy} disabled={!passphrase || confirmText.trim().toLowerCase() !== 'delete'}>
              Delete everything
            </Button>
          </div>
        </form>
      </Dialog>
    </Card>
  );
}

export default function SettingsPage() {
  usePageTitle('Settings');
  const { user } = useSession();
  return (
    <div className="max-w-3xl">
      <PageHeader title="Settings" description={user ? `Signed in as ${user.email}` : undefined} />
      <div className="space-y-6">
        <Appearance />
        <ChangePassphrase />
        {user && <NewRecoveryKey email={user.email} />}
        <GoogleLink />
        <ExportVault />
        <Sessions />
        <Activity />
        <ApiTokens />
        <Invites />
        <ModelsSettings />
        <DeleteAccount />
      </div>
    </div>
  );
}
