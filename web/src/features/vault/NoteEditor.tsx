import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { Item } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { TextArea, TextField } from '../../components/ui/Field';

export function parseTags(s: string): string[] {
  return [
    ...new Set(
      s
        .split(/[,\n]/)
        .map((t) => t.trim().replace(/^#/, '').toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** A new note's title, text and tags (existing notes are edited in EditNote, with autosave). */
export function NoteForm({ onSaved, onCancel }: { onSaved: (item: Item) => void; onCancel: () => void }) {
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return setError(new Error('Give your note a title.'));
    setBusy(true);
    setError(null);
    try {
      const body = { title: title.trim(), text, tags: parseTags(tags) };
      onSaved(await api.post<Item>('/api/items', { kind: 'note', ...body }));
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
      <TextField label="Tags" hint="Separate with commas, e.g. insurance, family" value={tags} onChange={(e) => setTags(e.target.value)} />
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
  useEffect(() => {
    if (open) setK((x) => x + 1);
  }, [open]);
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="New note"
      description="Notes are encrypted in your vault and searchable by you and your assistant."
      wide
    >
      <NoteForm key={k} onSaved={onSaved} onCancel={() => onOpenChange(false)} />
    </Dialog>
  );
}
