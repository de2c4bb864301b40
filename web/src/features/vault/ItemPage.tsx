import { lazy, Suspense, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client';
import type { Item } from '../../api/types';
import { Link, useRouter } from '../../app/router';
import { Button, Spinner, TOUCH_TARGET } from '../../components/ui/Button';
import { Badge, EmptyState, ErrorText } from '../../components/ui/Feedback';
import { focusLost, focusRowControl, focusStatic } from '../../components/focus';
import { formatDate, formatDateTime, KIND_LABELS, SOURCE_LABELS } from '../../components/format';
import { UserText } from '../../components/UserText';
import { usePageTitle } from '../../components/usePageTitle';
import { Markdown } from '../chat/Markdown';
import { RecordDetails } from '../health/RecordDetails';
import { ManualEntryDialog } from '../health/ManualEntryDialog';
import { entryFromResource } from '../health/manual-entry';
import { KIND_TONE } from './ItemRow';
import { EditNote } from './EditNote';
import { HistoryPanel } from './HistoryPanel';
import { parseTags, tagProblem } from './NoteEditor';
import { useFolders } from './useFolders';
import { ExtractionNotice } from './Extraction';
import { peekKeptDraft } from './keptDrafts';
import { lastVaultHref } from './vaultLocation';

const PdfViewer = lazy(() => import('./PdfViewer'));

export function isPdf(item: Item): boolean {
  const d = item.data ?? {};
  const ct = String(d.contentType ?? d.mimeType ?? d.mime ?? '').toLowerCase();
  return item.type === 'application/pdf' || ct === 'application/pdf' || /\.pdf$/i.test(String(d.filename ?? d.name ?? item.title));
}

export function ItemPage({ id }: { id: string }) {
  const { navigate } = useRouter();
  const [item, setItem] = useState<Item | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [editingEntry, setEditingEntry] = useState(false);
  const [trashing, setTrashing] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const [editorClosed, setEditorClosed] = useState(false);
  // Edit goes away as the editor opens: focus goes into the editor rather than to <body>. Not when
  // the editor reopens by itself with a kept edit; the page then starts at its heading.
  const [focusEditor, setFocusEditor] = useState(false);
  // The item's kind, not its title: see usePageTitle on vault content in window titles.
  usePageTitle(item ? (KIND_LABELS[item.kind] ?? 'Item') : 'Item');

  // A new page (a note just saved in the New note dialog, a search result opened): its heading, if
  // focus was left nowhere (<body>) or on the page's main region while it loaded.
  const loadedId = item?.id;
  useEffect(() => {
    if (loadedId && (focusLost() || document.activeElement?.id === 'main')) focusStatic(heading.current);
  }, [loadedId]);
  // The editor's Done went with the editor: back to the Edit button that opened it.
  useEffect(() => {
    if (!editorClosed) return;
    setEditorClosed(false);
    if (focusLost()) editButton.current?.focus();
  }, [editorClosed]);

  useEffect(() => {
    setItem(null);
    setError(null);
    setEditing(false);
    setFocusEditor(false);
    api.get<Item>(`/api/items/${encodeURIComponent(id)}`).then((i) => {
      setItem(i);
      // Back after signing in again: reopen the editor with the edit the ended session kept.
      if (i.kind === 'note' && peekKeptDraft(i.id)) setEditing(true);
    }, setError);
  }, [id]);

  if (error) {
    // An address whose id is not even an id (`/vault/not-a-uuid`) leads nowhere either.
    const notFound = error instanceof ApiError && (error.status === 404 || (error.status === 400 && error.code === 'invalid_request'));
    return (
      <div>
        <BackLink />
        {notFound ? <EmptyState title="This item is not in your vault">It may have been moved to the trash.</EmptyState> : <ErrorText error={error} />}
      </div>
    );
  }
  if (!item)
    return (
      <div className="flex justify-center py-16 text-stone-500" role="status">
        <Spinner className="h-6 w-6" />
        <span className="sr-only">Loading</span>
      </div>
    );

  const trash = async () => {
    setTrashing(true);
    try {
      // A hand entry also leaves the charts it was on.
      await api.del(manual ? `/api/records/manual/${item.id}` : `/api/items/${item.id}`);
      navigate(lastVaultHref());
    } catch (e) {
      setError(e);
      setTrashing(false);
    }
  };

  const fileUrl = item.fileId ? `/api/files/${encodeURIComponent(item.fileId)}` : null;
  // A hand entry is edited as the form it was typed in (its FHIR resource read back).
  const manual = item.source === 'manual' && item.kind === 'record' ? entryFromResource(item.data?.resource) : null;

  return (
    <article>
      <BackLink />
      <header className="mb-6 flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <div className="mb-2 flex flex-wrap items-center gap-2">
            <Badge tone={KIND_TONE[item.kind] ?? 'stone'}>{KIND_LABELS[item.kind] ?? item.kind}</Badge>
            <span className="text-xs text-stone-500">{SOURCE_LABELS[item.source] ?? item.source}</span>
            {item.occurredAt && <span className="text-xs text-stone-500">· {formatDate(item.occurredAt)}</span>}
          </div>
          <h1 ref={heading} tabIndex={-1} className="break-words text-2xl font-semibold tracking-tight text-stone-900">
            <UserText>{item.title || 'Untitled'}</UserText>
          </h1>
          <p className="mt-1 text-xs text-stone-500">
            Added {formatDateTime(item.createdAt)}
            {/* Reading a file's text changes updatedAt too; only a new version is an edit. */}
            {item.version > 1 && item.updatedAt !== item.createdAt && ` · edited ${formatDateTime(item.updatedAt)}`}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          {fileUrl && (
            <a
              href={fileUrl}
              download
              className="inline-flex h-10 items-center gap-2 rounded-lg border border-stone-300 bg-white px-4 text-sm font-medium text-stone-800 shadow-sm hover:bg-stone-100 focus-visible:outline-2 focus-visible:outline-teal-600"
            >
              Download
            </a>
          )}
          {manual && (
            <Button variant="secondary" onClick={() => setEditingEntry(true)}>
              Edit entry
            </Button>
          )}
          {item.kind === 'note' && !editing && (
            <Button
              ref={editButton}
              variant="secondary"
              onClick={() => {
                setFocusEditor(true);
                setEditing(true);
              }}
            >
              Edit
            </Button>
          )}
          <Button variant="secondary" onClick={() => setShowHistory((v) => !v)} aria-expanded={showHistory}>
            History
          </Button>
          <Button variant="ghost" onClick={trash} busy={trashing}>
            Move to trash
          </Button>
        </div>
      </header>
      <MoveTo item={item} onMoved={setItem} />
      <ExtractionNotice item={item} onChange={setItem} />

      {manual && editingEntry && (
        <ManualEntryDialog open={editingEntry} onOpenChange={setEditingEntry} editing={{ id: item.id, ...manual }} onSaved={setItem} />
      )}
      {editing ? (
        <div className="rounded-xl border border-stone-200 bg-white p-5 shadow-sm">
          <EditNote
            item={item}
            focusOnOpen={focusEditor}
            onSaved={setItem}
            onClose={() => {
              setEditing(false);
              setFocusEditor(false);
              setEditorClosed(true);
            }}
          />
        </div>
      ) : (
        <>
          <TagEditor item={item} onChange={setItem} />
          {item.kind === 'record' && item.data && <RecordDetails item={item} />}
          {fileUrl && isPdf(item) && (
            <Suspense fallback={<p className="my-6 text-sm text-stone-500">Loading the PDF viewer…</p>}>
              <PdfViewer url={fileUrl} title={item.title} />
            </Suspense>
          )}
          {item.text ? (
            <section aria-label="Content" className="mt-6 rounded-xl border border-stone-200 bg-white p-6 shadow-sm">
              {fileUrl && isPdf(item) && <h2 className="mb-3 text-sm font-semibold text-stone-700">Extracted text</h2>}
              {item.kind === 'note' ? (
                // A note is written in Markdown: shown as the editor's preview shows it (the same safe renderer).
                <div className="max-w-prose break-words text-[0.95rem] leading-relaxed text-stone-800" data-testid="note-text">
                  <Markdown text={item.text} />
                </div>
              ) : (
                <PagedText text={item.text} />
              )}
            </section>
          ) : (
            !fileUrl && <p className="mt-6 text-sm text-stone-500">This item has no text.</p>
          )}
        </>
      )}
      {showHistory && (
        <HistoryPanel
          item={item}
          onRestored={(restored) => {
            // The editor holds its own draft: reopen it on the restored version.
            setEditing(false);
            setItem(restored);
          }}
        />
      )}
    </article>
  );
}

/**
 * A file's text with its pages apart: page N is the N-th form-feed separated part (docs/API.md
 * "Files"), and a form feed shows as nothing, so without a mark the pages would run together.
 */
function PagedText({ text }: { text: string }) {
  const body = 'whitespace-pre-wrap break-words';
  const pages = text.split('\f');
  return (
    <div className="max-w-prose text-[0.95rem] leading-relaxed text-stone-800" data-testid="item-text">
      {pages.length === 1 ? (
        <div className={body}>{text}</div>
      ) : (
        pages.map((page, i) => (
          <div key={i} className={i > 0 ? 'mt-6' : undefined}>
            <p data-testid="page-mark" className="mb-2 flex items-center gap-3 text-xs font-medium text-stone-500">
              Page {i + 1}
              <span aria-hidden="true" className="h-px flex-1 bg-stone-200" />
            </p>
            <div className={body}>{page}</div>
          </div>
        ))
      )}
    </div>
  );
}

/** A folder path short enough for a menu: its start and its end, which name the folder. */
export function shortPath(path: string, max = 60): string {
  const chars = [...path];
  if (chars.length <= max) return path;
  const tail = Math.ceil((max - 1) * 0.6);
  return `${chars.slice(0, max - 1 - tail).join('')}…${chars.slice(-tail).join('')}`;
}

/** The "Move to" menu: every folder by its path, or none. */
function MoveTo({ item, onMoved }: { item: Item; onMoved: (i: Item) => void }) {
  const folders = useFolders();
  const [error, setError] = useState<unknown>(null);
  const options = folders.folders.map((f) => ({ id: f.id, path: folders.pathOf(f.id) })).sort((a, b) => a.path.localeCompare(b.path));
  return (
    <div className="mb-4 flex flex-wrap items-center gap-2 text-sm">
      <label htmlFor="move-to" className="text-stone-600">
        Move to folder
      </label>
      <select
        id="move-to"
        value={item.folderId ?? ''}
        onChange={async (e) => {
          setError(null);
          try {
            onMoved(await api.patch<Item>(`/api/items/${item.id}`, { folderId: e.target.value || null }));
          } catch (err) {
            setError(err);
          }
        }}
        className="h-8 min-w-0 max-w-full truncate rounded-lg border border-stone-300 bg-white px-2 text-sm sm:max-w-md"
      >
        <option value="">No folder</option>
        {options.map((o) => (
          <option key={o.id} value={o.id} title={o.path}>
            {shortPath(o.path)}
          </option>
        ))}
      </select>
      <ErrorText error={error ?? folders.error} />
    </div>
  );
}

function BackLink() {
  return (
    <Link to={lastVaultHref()} className={`mb-4 inline-flex items-center gap-1 text-sm font-medium text-stone-600 hover:text-stone-900 ${TOUCH_TARGET}`}>
      <span aria-hidden="true">←</span> Back to vault
    </Link>
  );
}

function TagEditor({ item, onChange }: { item: Item; onChange: (i: Item) => void }) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // The removed tag's place: focus goes to the next tag's ×, else the "Add a tag" field, once it is gone.
  const [removedAt, setRemovedAt] = useState<number | null>(null);
  const section = useRef<HTMLElement>(null);
  const addField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (removedAt === null || busy) return;
    setRemovedAt(null);
    focusRowControl(section.current, removedAt, 'button[data-remove-tag]', () => addField.current?.focus());
  }, [removedAt, busy, item.tags]);

  const remove = (index: number) => {
    setRemovedAt(index);
    void save(item.tags.filter((_, i) => i !== index));
  };

  const save = async (tags: string[]) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.patch<Item>(`/api/items/${item.id}`, { tags, baseVersion: item.version }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const added = parseTags(draft);
    if (!added.length) return;
    const problem = tagProblem([...new Set([...item.tags, ...added])]);
    if (problem) return setError(new Error(problem));
    await save([...new Set([...item.tags, ...added])]);
    setDraft('');
  };

  return (
    <section ref={section} aria-label="Tags" className="flex flex-wrap items-center gap-2">
      {item.tags.map((t, index) => (
        <span
          key={t}
          className="inline-flex max-w-full items-center gap-1 rounded-full bg-stone-100 py-0.5 pl-2.5 pr-1 text-xs font-medium text-stone-700 ring-1 ring-stone-200"
        >
          {/* A tag may be 64 characters with no space: it breaks anywhere rather than widen a phone's page. */}
          <span className="min-w-0 break-all">#{t}</span>
          <button
            type="button"
            data-remove-tag
            disabled={busy}
            onClick={() => remove(index)}
            aria-label={`Remove tag ${t}`}
            className={`inline-flex items-center justify-center rounded-full px-1 text-stone-500 hover:bg-stone-200 hover:text-stone-900 focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET}`}
          >
            ×
          </button>
        </span>
      ))}
      <form onSubmit={add} className="flex items-center gap-1">
        <label htmlFor="add-tag" className="sr-only">
          Add a tag
        </label>
        <input
          ref={addField}
          id="add-tag"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="Add a tag"
          className="h-7 w-28 rounded-full max-sm:h-11 border border-dashed border-stone-300 bg-transparent px-3 text-xs focus:border-teal-600 focus:outline-2 focus:outline-teal-600"
        />
        {draft && (
          <Button size="sm" variant="ghost" type="submit" busy={busy}>
            Add
          </Button>
        )}
      </form>
      <ErrorText error={error} className="w-full" />
    </section>
  );
}
