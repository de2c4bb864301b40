import { useEffect, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Item } from '../../api/types';
import { Button, TOUCH_TARGET } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText, Notice } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { UserText } from '../../components/UserText';
import { Markdown } from '../chat/Markdown';
import { MAX_TAG_CHARS, parseTags, tagProblem } from './NoteEditor';
import { useNoteDraft, type SaveState } from './useNoteDraft';

const STATUS: Record<SaveState, string> = { saved: 'Saved', unsaved: 'Unsaved changes', saving: 'Saving…', error: 'Not saved' };

/**
 * The tags kept as they are, then the ones being typed, parsed: a stored tag may hold a comma,
 * a leading # or capitals, and only what the person typed is read as a list of tags.
 */
function withTyped(kept: string[], typed: string): string[] {
  const have = new Set(kept.map((t) => t.toLowerCase()));
  return [...kept, ...parseTags(typed).filter((t) => !have.has(t.toLowerCase()))];
}

/**
 * The note editor: Markdown with a preview through the chat answers' safe renderer (no raw HTML,
 * links as text, no remote images), autosave with the version rule, Ctrl/Cmd+S to save now.
 */
export function EditNote({
  item,
  onSaved,
  onClose,
  focusOnOpen = false,
}: {
  item: Item;
  onSaved: (item: Item) => void;
  onClose: () => void;
  /** Opened by its Edit button, which is gone now: focus starts in the Title field. */
  focusOnOpen?: boolean;
}) {
  const note = useNoteDraft(item, onSaved);
  const [tab, setTab] = useState<'write' | 'preview'>('write');
  // Tags as chips, and a field for new ones: the draft holds both, so typing autosaves as before.
  const [keptTags, setKeptTags] = useState(note.draft.tags);
  const [typedTags, setTypedTags] = useState('');
  // A merge or another session may change the draft's tags: the chips then show them.
  useEffect(() => {
    if (withTyped(keptTags, typedTags).join('\n') === note.draft.tags.join('\n')) return;
    setKeptTags(note.draft.tags);
    setTypedTags('');
    // Deliberately keyed on the draft's tags only: typing in the field must not be overwritten.
  }, [note.draft.tags]);
  const setTags = (kept: string[], typed: string) => {
    setKeptTags(kept);
    setTypedTags(typed);
    set({ tags: withTyped(kept, typed) });
  };
  // The typed tags become chips: the draft already holds them, so this saves nothing by itself.
  const commitTyped = () => {
    if (!typedTags.trim()) return;
    setKeptTags(withTyped(keptTags, typedTags));
    setTypedTags('');
  };
  const trashed = note.error instanceof ApiError && note.error.code === 'item_trashed';

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        void note.save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [note.save]);

  const set = (patch: Partial<typeof note.draft>) => note.setDraft((d) => ({ ...d, ...patch }));

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-xs text-stone-500" role="status" aria-live="polite" data-testid="save-state">
          {STATUS[note.state]} · version {note.base.version}
        </p>
        <div className="flex gap-2">
          {/* aria-disabled, not disabled: a disabled button drops focus to <body> the moment its save lands. */}
          <Button
            size="sm"
            variant="secondary"
            onClick={() => void note.save()}
            aria-disabled={!note.dirty}
            className="aria-disabled:cursor-not-allowed aria-disabled:opacity-50"
            aria-keyshortcuts="Control+S"
          >
            Save now
          </Button>
          <Button size="sm" variant="ghost" onClick={onClose} disabled={note.dirty || note.state === 'saving'}>
            Done
          </Button>
        </div>
      </div>
      {note.restored && (
        <Notice tone={note.dirty ? 'warning' : 'success'} title={note.dirty ? 'Your unsaved changes were kept; save them now' : undefined}>
          <span data-testid="kept-notice">
            {!note.dirty
              ? 'Your kept changes are saved.'
              : note.restoredAfterLeaving
                ? 'You left this note before they could be saved.'
                : 'You were signed out before they could be saved.'}
          </span>
        </Notice>
      )}
      {note.notice && (
        <Notice tone="info" title="Another session saved this note">
          <span data-testid="merge-notice">{note.notice}</span>
        </Notice>
      )}
      <TextField label="Title" required value={note.draft.title} onChange={(e) => set({ title: e.target.value })} autoFocus={focusOnOpen} />
      <div>
        <div role="tablist" aria-label="Editor view" className="mb-2 flex gap-1">
          {(['write', 'preview'] as const).map((t) => (
            <button
              key={t}
              type="button"
              role="tab"
              aria-selected={tab === t}
              onClick={() => setTab(t)}
              className={`rounded-md px-3 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET} ${tab === t ? 'bg-teal-700 text-white' : 'text-stone-600 hover:bg-stone-100'}`}
            >
              {t === 'write' ? 'Write' : 'Preview'}
            </button>
          ))}
        </div>
        {tab === 'write' ? (
          <>
            <label htmlFor="note-text" className="sr-only">
              Text (Markdown)
            </label>
            <textarea
              id="note-text"
              value={note.draft.text}
              onChange={(e) => set({ text: e.target.value })}
              rows={16}
              className="block w-full rounded-lg border border-stone-300 bg-white p-3 font-mono text-sm leading-relaxed shadow-sm focus:border-teal-600 focus:outline-2 focus:outline-teal-600"
            />
          </>
        ) : (
          <section aria-label="Preview" className="min-h-40 rounded-lg border border-stone-200 bg-white p-4 text-[0.95rem] leading-relaxed text-stone-800">
            <Markdown text={note.draft.text} />
          </section>
        )}
      </div>
      <div role="group" aria-label="Tags">
        {keptTags.length > 0 && (
          <ul aria-label="Tags on this note" className="mb-2 flex flex-wrap gap-2">
            {keptTags.map((t, index) => (
              <li
                key={t}
                className="inline-flex max-w-full items-center gap-1 rounded-full bg-stone-100 py-0.5 pl-2.5 pr-1 text-xs font-medium text-stone-700 ring-1 ring-stone-200"
              >
                <span className="min-w-0 break-all">{t}</span>
                <button
                  type="button"
                  onClick={() =>
                    setTags(
                      keptTags.filter((_, i) => i !== index),
                      typedTags,
                    )
                  }
                  aria-label={`Remove tag ${t}`}
                  className={`inline-flex items-center justify-center rounded-full px-1 text-stone-500 hover:bg-stone-200 hover:text-stone-900 focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET}`}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <TextField
          label="Add tags"
          hint={`Separate with commas. Up to ${MAX_TAG_CHARS} characters each.`}
          value={typedTags}
          onChange={(e) => setTags(keptTags, e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== 'Enter') return;
            e.preventDefault();
            commitTyped();
          }}
          onBlur={commitTyped}
          error={tagProblem(note.draft.tags)}
        />
      </div>
      {trashed ? (
        <Notice tone="warning" title="This note was moved to the trash">
          Your changes are not saved. Restore it from the trash to save them; what you typed is kept.
        </Notice>
      ) : (
        <ErrorText error={note.error} />
      )}
      <ConflictDialog conflict={note.conflict} mine={note.draft} onChoose={note.resolve} />
    </div>
  );
}

/** Both edits changed the same lines: show them side by side and let the person choose. */
function ConflictDialog({
  conflict,
  mine,
  onChoose,
}: {
  conflict: Item | null;
  mine: { title: string; text: string };
  onChoose: (c: 'mine' | 'theirs') => void;
}) {
  return (
    <Dialog
      open={conflict !== null}
      onOpenChange={() => undefined}
      modal="required"
      wide
      title="This note was changed in another session"
      description={`Your edits and version ${conflict?.version ?? ''} change the same lines. Choose which to keep; the other stays in the history.`}
    >
      <div className="grid gap-3 md:grid-cols-2">
        {[
          { label: 'Your version', t: mine },
          { label: `Saved version ${conflict?.version ?? ''}`, t: conflict ?? { title: '', text: '' } },
        ].map(({ label, t }) => (
          <section key={label} aria-label={label} className="rounded-lg border border-stone-200 p-3">
            <h3 className="mb-1 text-sm font-semibold text-stone-800">{label}</h3>
            <p className="mb-2 text-sm font-medium text-stone-700">
              <UserText>{t.title}</UserText>
            </p>
            <pre className="max-h-72 overflow-auto whitespace-pre-wrap break-words font-mono text-xs text-stone-700">{t.text}</pre>
          </section>
        ))}
      </div>
      <div className="mt-4 flex justify-end gap-2">
        <Button variant="secondary" onClick={() => onChoose('theirs')}>
          Use the saved version
        </Button>
        <Button onClick={() => onChoose('mine')}>Keep my version</Button>
      </div>
    </Dialog>
  );
}
