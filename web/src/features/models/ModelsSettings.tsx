import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError, streamEvents } from '../../api/client';
import type { ModelInfo, ModelsResponse } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Card, ErrorText, Notice, ProgressBar } from '../../components/ui/Feedback';
import { SelectField, TextField } from '../../components/ui/Field';
import { formatContext, formatGiB, formatModelSize } from './format';

interface Progress {
  status: string;
  completed: number;
  total: number;
}

/**
 * The listed model a default names: Ollama reads a name without a tag as `:latest`, and lists the
 * tagged form, so `nomic-embed-text` is `nomic-embed-text:latest` (sandbox/model-names.ts).
 */
function listedAs(names: string[], name: string): string | undefined {
  const tagged = (n: string) => (n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`);
  return names.find((n) => tagged(n) === tagged(name));
}

function FitNote({ m, limits }: { m: ModelInfo; limits: ModelsResponse['limits'] }) {
  if (m.fits) return null;
  return (
    <p className="mt-1 text-sm text-red-700" data-testid="model-no-fit">
      Will not fit: it needs about {formatGiB(m.requiredBytes)} with a {formatContext(limits.numCtx)} context, and each sandbox has{' '}
      {formatGiB(limits.memoryMb * 1024 * 1024)} (SANDBOX_MEMORY_MB).
    </p>
  );
}

/**
 * Settings -> Models: what is in the models directory, with Ollama's own metadata; admins pull
 * (with progress), delete and pick the default chat and embedding models. Everyone else sees the
 * list only.
 */
export function ModelsSettings() {
  const [data, setData] = useState<ModelsResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [pulling, setPulling] = useState(false);
  const [pulled, setPulled] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headingId = useId();

  const load = useCallback(
    () =>
      api
        .get<ModelsResponse>('/api/models')
        .then(setData)
        .catch((e) => setError(e)),
    [],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const pull = async (e: FormEvent) => {
    e.preventDefault();
    const model = name.trim();
    if (!model) return;
    setPulling(true);
    setPulled(null);
    setError(null);
    setProgress({ status: 'starting', completed: 0, total: 0 });
    try {
      for await (const ev of streamEvents('/api/models/pull', { name: model })) {
        const d = JSON.parse(ev.data) as Progress & { message?: string; code?: string };
        if (ev.event === 'progress') setProgress(d);
        else if (ev.event === 'error') throw new ApiError(502, d.code ?? 'pull_failed', d.message ?? 'The pull failed.');
        else if (ev.event === 'done') {
          setPulled(model);
          setName('');
        }
      }
    } catch (err) {
      setError(err);
    } finally {
      setPulling(false);
      setProgress(null);
      await load();
    }
  };

  const remove = async (model: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.del(`/api/models/${encodeURIComponent(model)}`);
      setConfirm(null);
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const setDefault = async (which: 'chat' | 'embed', model: string) => {
    setError(null);
    try {
      await api.put('/api/models/defaults', { [which]: model });
      await load();
    } catch (err) {
      setError(err);
    }
  };

  const fraction = progress && progress.total > 0 ? progress.completed / progress.total : null;
  const names = data?.models.map((m) => m.name) ?? [];
  // Each default offers the models that can fill it: Ollama refuses a chat with an embedding model.
  const chatNames = data?.models.filter((m) => m.kind !== 'embedding').map((m) => m.name) ?? [];
  const embedNames = data?.models.filter((m) => m.kind === 'embedding').map((m) => m.name) ?? [];
  const chatDefault = data ? (listedAs(chatNames, data.defaults.chat) ?? data.defaults.chat) : undefined;
  const embedDefault = data ? (listedAs(embedNames, data.defaults.embed) ?? data.defaults.embed) : undefined;
  return (
    <Card
      title="Models"
      description="The AI models on this server, read from the models directory. Each answer runs in a sandbox without network; models arrive only through a separate download container."
    >
      <section aria-labelledby={headingId} data-testid="models-settings">
        <h3 id={headingId} className="sr-only">
          Installed models
        </h3>
        <ErrorText error={error} className="mb-4" />
        {data && data.models.length === 0 && (
          <p className="text-sm text-stone-600">No models yet.{data.canManage ? ' Pull one below, e.g. llama3.1:8b.' : ''}</p>
        )}
        {data && data.models.length > 0 && (
          <ul className="divide-y divide-stone-100" data-testid="models-list">
            {data.models.map((m) => (
              <li key={m.name} className="flex items-start justify-between gap-3 py-3" data-testid="model-row" data-model={m.name}>
                <div className="min-w-0 flex-1">
                  <p className="font-medium text-stone-900">
                    {m.name}
                    {m.name === data.defaults.chat && <span className="ml-2 text-xs font-normal text-teal-800">default chat</span>}
                    {m.name === data.defaults.embed && <span className="ml-2 text-xs font-normal text-teal-800">default embedding</span>}
                  </p>
                  <p className="text-sm text-stone-600">
                    {[
                      formatModelSize(m.size),
                      m.kind === 'embedding' ? 'embedding model' : undefined,
                      m.family,
                      m.quantization,
                      m.contextLength ? `${formatContext(m.contextLength)} context` : undefined,
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </p>
                  <FitNote m={m} limits={data.limits} />
                </div>
                {data.canManage && (
                  <Button variant="secondary" className="shrink-0" onClick={() => setConfirm(m.name)} aria-label={`Delete model ${m.name}`}>
                    Delete
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}

        {data?.canManage && names.length > 0 && (
          <div className="mt-4 grid gap-4 sm:grid-cols-2">
            <SelectField label="Default chat model" value={chatDefault} onChange={(e) => void setDefault('chat', e.target.value)}>
              {!chatNames.includes(chatDefault!) && <option value={chatDefault}>{chatDefault} (not pulled)</option>}
              {chatNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </SelectField>
            <SelectField label="Default embedding model" value={embedDefault} onChange={(e) => void setDefault('embed', e.target.value)}>
              {!embedNames.includes(embedDefault!) && <option value={embedDefault}>{embedDefault} (not pulled)</option>}
              {embedNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </SelectField>
          </div>
        )}

        {data?.canManage && (
          <form onSubmit={pull} className="mt-6 space-y-3" noValidate>
            <div className="flex flex-wrap items-end gap-2">
              <TextField
                label="Pull a model by name"
                placeholder="llama3.1:8b"
                value={name}
                onChange={(e) => setName(e.target.value)}
                disabled={pulling}
                className="min-w-56 flex-1"
                autoComplete="off"
                spellCheck={false}
              />
              <Button type="submit" busy={pulling} disabled={!name.trim()}>
                Pull
              </Button>
            </div>
            {progress && (
              <div data-testid="pull-progress">
                <ProgressBar value={fraction} label={`Pulling ${name.trim()}`} />
                <p className="mt-1 text-xs text-stone-600" aria-live="polite">
                  {progress.total > 0 ? `${formatModelSize(progress.completed)} of ${formatModelSize(progress.total)}` : progress.status}
                </p>
              </div>
            )}
            {pulled && <Notice tone="success">{pulled} is ready.</Notice>}
          </form>
        )}
        {data && !data.canManage && <p className="mt-4 text-xs text-stone-600">Only an admin account can add or remove models.</p>}
      </section>

      <Dialog
        open={confirm !== null}
        onOpenChange={(o) => !o && setConfirm(null)}
        title={`Delete ${confirm ?? ''}?`}
        description="Its files are removed from the models directory. Chats that use it stop working until it is pulled again."
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirm(null)}>
            Cancel
          </Button>
          <Button variant="danger" busy={busy} onClick={() => confirm && void remove(confirm)}>
            Delete model
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}
