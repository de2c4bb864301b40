import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { Item } from '../../api/types';
import { useRouter } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { TextArea, TextField } from '../../components/ui/Field';

/**
 * Tags as a person types them: separated by commas or lines, a leading # dropped, the case kept
 * (the server matches tags without regard to case, and keeps the first spelling of one).
 * Only for new input: a stored tag may hold a comma or start with #, so it is never re-parsed.
 */
export function parseTags(s: string): string[] {
  const seen = new Map<string, string>();
  for (const raw of s.split(/[,\n]/)) {
    const t = raw.trim().replace(/^#/, '');
    if (t && !seen.has(t.toLowerCase())) seen.set(t.toLowerCase(), t);
  }
  return [...seen.values()];
}

export const MAX_TAG_CHARS = 64;
export const MAX_TAGS = 32;

/**
 * What the server would refuse in these tags, said before sending. Counted as the server counts
 * (contract/items.ts normalizeTag: NFKC, trimmed, spaces collapsed, then characters).
 */
export function tagProblem(tags: string[]): string | null {
  if (tags.length > MAX_TAGS) return `A note can have at most ${MAX_TAGS} tags.`;
  const long = tags.find((t) => [...t.normalize('NFKC').trim().replace(/\s+/g, ' ')].length > MAX_TAG_CHARS);
  if (!long) return null;
  const shown = [...long].length > 20 ? `${[...long].slice(0, 20).join('')}…` : long;
  return `The tag “${shown}” is too long. A tag can have at most ${MAX_TAG_CHARS} characters.`;
}

/** The server's limit on a note's text (contract/items.ts), counted as it counts: UTF-16 code units. */
export const MAX_NOTE_CHARS = 1_000_000;

/** Said before sending: the server would only answer that the request body is too large. */
export function textProblem(text: string): string | null {
  if (text.length <= MAX_NOTE_CHARS) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  return `The text is too long: a note can have at most ${n(MAX_NOTE_CHARS)} characters, and this one has ${n(text.length)}.`;
}

const LEAVE_NEW_NOTE = 'Your new note is not saved yet. If you leave now, what you typed is lost.';

/** A new note's title, text and tags (existing notes are edited in EditNote, with autosave). */
export function NoteForm({
  onSaved,
  onCancel,
  onDirtyChange,
}: {
  onSaved: (item: Item) => void;
  onCancel: () => void;
  /** Whether anything has been typed, so closing can ask before throwing it away. */
  onDirtyChange?: (dirty: boolean) => void;
}) {
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const dirty = Boolean(title.trim() || text.trim() || tags.trim());
  // Reported during the commit, so a close right after a keystroke already knows.
  useLayoutEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);
  // Back, a link, a reload or a closed tab would drop the typing with the dialog: ask first, as a
  // note's page editor does before a reload (useLeaveWarning's guard, held here so a save can let go
  // of it before its own navigation to the new note, which must not ask).
  const { guard } = useRouter();
  const release = useRef<(() => void) | null>(null);
  useEffect(() => {
    if (!dirty) return;
    const off = guard(LEAVE_NEW_NOTE);
    release.current = off;
    return () => {
      off();
      release.current = null;
    };
  }, [dirty, guard]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return setError(new Error('Give your note a title.'));
    // The Tags field already says what is wrong.
    if (tagProblem(parseTags(tags))) return;
    const tooLong = textProblem(text);
    if (tooLong) return setError(new Error(tooLong));
    setBusy(true);
    setError(null);
    try {
      const body = { title: title.trim(), text, tags: parseTags(tags) };
      const saved = await api.post<Item>('/api/items', { kind: 'note', ...body });
      release.current?.();
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="space-y-4">
      <TextField label="Title" required value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
      <TextArea label="Text" value={text} onChange={(e) => setText(e.target.value)} rows={10} />
      <TextField
        label="Tags"
        hint={`Separate with commas, e.g. insurance, family. Up to ${MAX_TAG_CHARS} characters each.`}
        value={tags}
        onChange={(e) => setTags(e.target.value)}
        error={tagProblem(parseTags(tags))}
      />
      <ErrorText error={error} />
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" busy={busy}>
          Save
        </Button>
      </div>
    </form>
  );
}

export function NewNoteDialog({ open, onOpenChange, onSaved }: { open: boolean; onOpenChange: (o: boolean) => void; onSaved: (item: Item) => void }) {
  const [k, setK] = useState(0);
  // A ref, not state: Escape can arrive before a re-render with the form's latest report would.
  const dirty = useRef(false);
  const setDirty = useCallback((d: boolean) => {
    dirty.current = d;
  }, []);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    if (open) setK((x) => x + 1);
  }, [open]);
  // Escape, a click outside and Cancel all end here: typed text is only thrown away when asked.
  const requestClose = (o: boolean) => {
    if (o || !dirty.current) return onOpenChange(o);
    setConfirming(true);
  };
  const discard = () => {
    setConfirming(false);
    setDirty(false);
    onOpenChange(false);
  };
  return (
    <Dialog
      open={open}
      onOpenChange={requestClose}
      title="New note"
      description="Notes are encrypted in your vault and searchable by you and your assistant."
      wide
    >
      <NoteForm
        key={k}
        onSaved={(item) => {
          setDirty(false);
          onSaved(item);
        }}
        onCancel={() => requestClose(false)}
        onDirtyChange={setDirty}
      />
      <Dialog open={confirming} onOpenChange={setConfirming} title="Discard this note?" description="What you typed has not been saved and will be lost.">
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirming(false)}>
            Keep writing
          </Button>
          <Button variant="danger" onClick={discard}>
            Discard
          </Button>
        </div>
      </Dialog>
    </Dialog>
  );
}
