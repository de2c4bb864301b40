import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Card, ErrorText, Notice } from '../../components/ui/Feedback';
import { SelectField, TextField } from '../../components/ui/Field';
import { focusRowControl } from '../../components/focus';
import { formatDateTime } from '../../components/format';
import { UserText } from '../../components/UserText';
import type { Token as ApiToken, TokenScope as Scope } from '../../api/types';
import { activityChanged } from './Activity';

const SCOPES: Array<{ scope: Scope; label: string; hint: string }> = [
  { scope: 'read', label: 'Read', hint: 'list, search and download' },
  { scope: 'write', label: 'Write', hint: 'add and delete (editing needs Read too)' },
  { scope: 'chat', label: 'Chat', hint: 'ask questions of the vault' },
];

const EXPIRY_DAYS = [7, 30, 90, 365];

/**
 * Personal API tokens for scripts: created here with a name, scopes and expiry; the token itself
 * is shown once (the server keeps only a lookup id and a wrapped key).
 */
export function ApiTokens() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState<ApiToken | null>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  // The revoked token's row: focus goes to the next row's Revoke (or the name field) once it is gone.
  const [revokedAt, setRevokedAt] = useState<number | null>(null);
  const list = useRef<HTMLUListElement>(null);
  const nameField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (revokedAt === null || busy) return;
    setRevokedAt(null);
    focusRowControl(list.current, revokedAt, 'button[data-revoke]', () => nameField.current?.focus());
  }, [revokedAt, busy, tokens]);
  const copy = async (token: string) => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(token);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  const load = () =>
    api
      .get<{ tokens: ApiToken[] }>('/api/tokens')
      .then((r) => setTokens(r.tokens))
      .catch(setError);
  useEffect(() => {
    void load();
  }, []);

  const toggle = (s: Scope) => setScopes((prev) => (prev.includes(s) ? prev.filter((x) => x !== s) : [...prev, s]));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError(new Error('Give the token a name, such as the script that will use it.'));
    if (scopes.length === 0) return setError(new Error('Pick at least one scope.'));
    setBusy('create');
    setError(null);
    try {
      const r = await api.post<{ id: string; token: string }>('/api/tokens', { name: name.trim(), scopes, expiresInDays: days });
      setCreated({ name: name.trim(), token: r.token });
      setCopied(null);
      setName('');
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      activityChanged();
    }
  };

  const revoke = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await api.del(`/api/tokens/${encodeURIComponent(id)}`);
      setRevokedAt(tokens?.findIndex((t) => t.id === id) ?? 0);
      setTokens((prev) => prev?.filter((t) => t.id !== id) ?? null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      setConfirmRevoke(null);
      activityChanged();
    }
  };

  return (
    <Card
      title="API tokens"
      description="Let a script or another tool use your vault without a browser, with Authorization: Bearer. A token can never change your passphrase, recovery key, sessions or tokens."
    >
      {created && (
        <Notice
          tone="success"
          className="mb-4"
          title={
            <>
              Token "<UserText>{created.name}</UserText>" (shown once: copy it now)
            </>
          }
        >
          <code data-testid="new-token" className="block break-all font-mono select-all">
            {created.token}
          </code>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <Button size="sm" variant="secondary" onClick={() => void copy(created.token)}>
              {copied === 'yes' ? 'Copied' : 'Copy token'}
            </Button>
            <span role="status" className="text-xs">
              {copied === 'yes' ? 'Token copied to the clipboard.' : copied === 'failed' ? 'Copying failed — select the token and copy it by hand.' : ''}
            </span>
          </div>
        </Notice>
      )}
      <form onSubmit={create} className="max-w-md space-y-4">
        <TextField
          ref={nameField}
          label="Token name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          autoComplete="off"
          placeholder="e.g. nightly backup"
        />
        <fieldset>
          <legend className="mb-2 text-sm font-medium text-stone-700">Scopes</legend>
          <div className="flex flex-wrap gap-4 text-sm">
            {SCOPES.map((s) => (
              <label key={s.scope} className="flex items-center gap-2" title={s.hint}>
                <input type="checkbox" checked={scopes.includes(s.scope)} onChange={() => toggle(s.scope)} className="accent-teal-700" />
                {s.label} <span className="text-xs text-stone-600">({s.hint})</span>
              </label>
            ))}
          </div>
        </fieldset>
        <SelectField label="Expires after" value={String(days)} onChange={(e) => setDays(Number(e.target.value))}>
          {EXPIRY_DAYS.map((d) => (
            <option key={d} value={d}>
              {d} days
            </option>
          ))}
        </SelectField>
        <ErrorText error={error} />
        <Button type="submit" busy={busy === 'create'}>
          Create token
        </Button>
      </form>
      {tokens && tokens.length > 0 && (
        <ul ref={list} aria-label="Your API tokens" className="mt-4 divide-y divide-stone-100 text-sm">
          {tokens.map((t) => {
            const expired = new Date(t.expiresAt) <= new Date();
            return (
              <li key={t.id} className="flex flex-wrap items-center justify-between gap-2 py-2.5">
                <span className="text-stone-800">
                  <UserText className="font-medium">{t.name}</UserText> <span className="text-xs text-stone-600">({t.scopes.join(', ')})</span>
                  <span className="block text-xs text-stone-600">
                    {t.lastUsedAt ? `Last used ${formatDateTime(t.lastUsedAt)}` : 'Never used'} ·{' '}
                    {expired ? `expired ${formatDateTime(t.expiresAt)}` : `expires ${formatDateTime(t.expiresAt)}`}
                  </span>
                </span>
                <Button size="sm" variant="secondary" data-revoke busy={busy === t.id} onClick={() => setConfirmRevoke(t)} aria-label={`Revoke ${t.name}`}>
                  Revoke
                </Button>
              </li>
            );
          })}
        </ul>
      )}
      <Dialog
        open={confirmRevoke !== null}
        onOpenChange={(o) => !o && setConfirmRevoke(null)}
        title={
          <>
            Revoke “<UserText>{confirmRevoke?.name ?? ''}</UserText>”?
          </>
        }
        description="Scripts and tools using this token stop working at once. This cannot be undone: they need a new token."
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirmRevoke(null)}>
            Cancel
          </Button>
          <Button busy={confirmRevoke !== null && busy === confirmRevoke.id} onClick={() => confirmRevoke && revoke(confirmRevoke.id)}>
            Revoke token
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}
