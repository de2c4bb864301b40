import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { AnswerContext, Source } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';
import { formatDate, formatDateTime } from '../../components/format';
import { UserText } from '../../components/UserText';
import { Markdown } from './Markdown';
import type { UiMessage } from './useChat';

/** "What the model saw": the sources, the token budget used, the model and its context size. */
export function ModelSaw({ context, sources }: { context: AnswerContext; sources: Source[] }) {
  const pct = Math.round((context.promptTokens / context.numCtx) * 100);
  return (
    <details className="mt-2 text-xs text-stone-700" data-testid="model-saw">
      <summary className="cursor-pointer select-none font-medium text-stone-600 hover:text-stone-900">What the model saw</summary>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        <dt className="text-stone-600">Model</dt>
        <dd className="font-mono">{context.model}</dd>
        <dt className="text-stone-600">Context size</dt>
        <dd>{context.numCtx.toLocaleString()} tokens</dd>
        <dt className="text-stone-600">Prompt</dt>
        <dd>
          about {context.promptTokens.toLocaleString()} tokens ({pct}% of the context), {context.answerReserve.toLocaleString()} kept for the answer
        </dd>
        <dt className="text-stone-600">Sources</dt>
        <dd>
          {context.sourcesUsed} of {context.sourcesFound} found fitted
          {context.truncated !== undefined ? ` (source ${context.truncated} cut short)` : ''}
        </dd>
        <dt className="text-stone-600">Earlier turns</dt>
        <dd>{context.historyMessages}</dd>
      </dl>
      {sources.length > 0 && (
        <ol className="mt-2 list-none space-y-0.5">
          {sources.map((s) => (
            <li key={s.n}>
              [{s.n}] <UserText>{s.title || 'Untitled'}</UserText> · {s.kind}
              {s.occurredAt ? ` · ${formatDate(s.occurredAt)}` : ''}
              {s.page !== undefined ? ` · page ${s.page}` : ''}
            </li>
          ))}
        </ol>
      )}
      <p className="mt-2 text-stone-600">The prompt text itself is not kept anywhere.</p>
    </details>
  );
}

/** Copy, regenerate, what the model saw and earlier answers, under a finished answer. */
export function AnswerActions({ m, onRegenerate }: { m: UiMessage; onRegenerate?: () => void }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  if (m.status === 'streaming') return null;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(m.text);
      setCopied(true);
    } catch {
      /* clipboard refused (insecure origin): the text stays selectable */
    }
  };
  return (
    <div className="mt-3 border-t border-stone-100 pt-2">
      <div className="flex flex-wrap items-center gap-1.5">
        {m.text && (
          <Button size="sm" variant="ghost" onClick={copy}>
            {copied ? 'Copied' : 'Copy answer'}
          </Button>
        )}
        {onRegenerate && (
          <Button size="sm" variant="ghost" onClick={onRegenerate}>
            Regenerate
          </Button>
        )}
        <span role="status" className="sr-only">
          {copied ? 'Answer copied' : ''}
        </span>
        {m.context?.retrieval === 'keyword' && <KeywordOnly />}
      </div>
      {m.context && <ModelSaw context={m.context} sources={m.sources} />}
      {m.alternatives && m.alternatives.length > 0 && (
        <details className="mt-2 text-xs text-stone-700" data-testid="earlier-answers">
          <summary className="cursor-pointer select-none font-medium text-stone-600 hover:text-stone-900">Earlier answers ({m.alternatives.length})</summary>
          <ol className="mt-2 space-y-3">
            {m.alternatives.map((a, i) => (
              <li key={i} className="rounded-lg border border-stone-200 bg-stone-50 p-2">
                <p className="mb-1 text-stone-600">
                  {formatDateTime(a.createdAt)}
                  {a.context ? ` · ${a.context.model}` : ''}
                </p>
                <Markdown text={a.text} sources={a.sources} />
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

/** The open chat's title with Rename and Export (Markdown with sources). */
export function ChatHeader({ chatId, title, onRenamed }: { chatId: string; title: string; onRenamed: (title: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(title);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setValue(title), [title]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return setError(new Error('A title cannot be empty.'));
    setBusy(true);
    setError(null);
    try {
      const r = await api.patch<{ title: string }>(`/api/chats/${encodeURIComponent(chatId)}`, { title: value.trim() });
      onRenamed(r.title);
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="mb-4 border-b border-stone-200 pb-3">
      {editing ? (
        <form onSubmit={save} className="flex flex-wrap items-center gap-2">
          <label htmlFor="chat-title" className="sr-only">
            Chat title
          </label>
          {/* The box sits in the h1, so the page keeps its heading (heading navigation, focusPageHeading) while renaming. */}
          <h1 className="min-w-0 flex-1">
            <input
              id="chat-title"
              value={value}
              maxLength={200}
              onChange={(e) => setValue(e.target.value)}
              autoFocus
              className="w-full rounded-lg border border-stone-300 bg-white px-3 py-1.5 text-sm text-stone-900 focus:border-teal-600 focus:outline-2 focus:outline-teal-600"
            />
          </h1>
          <Button type="submit" size="sm" busy={busy}>
            Save title
          </Button>
          <Button size="sm" variant="secondary" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </form>
      ) : (
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="min-w-0 flex-1 truncate text-lg font-semibold text-stone-900">
            <UserText>{title || 'Untitled chat'}</UserText>
          </h1>
          <Button size="sm" variant="secondary" onClick={() => setEditing(true)}>
            Rename
          </Button>
          <a
            href={`/api/chats/${encodeURIComponent(chatId)}/export`}
            download
            className="inline-flex h-8 items-center rounded-lg border border-stone-300 bg-white px-3 text-sm font-medium text-stone-800 shadow-sm hover:bg-stone-100 focus-visible:outline-2 focus-visible:outline-teal-600"
          >
            Export as Markdown
          </a>
        </div>
      )}
      <ErrorText error={error} className="mt-2" />
    </div>
  );
}

/** Shown where retrieval ran without an embedding model: paraphrases may be missed. */
export function KeywordOnly() {
  return (
    <span
      data-testid="keyword-only"
      title="No embedding model is installed, so sources were found by their words only. Pull one with npm run models -- pull nomic-embed-text."
      className="rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-900 ring-1 ring-amber-200"
    >
      Keyword search only
    </span>
  );
}
