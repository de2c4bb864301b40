import { useEffect, useState, type DragEvent, type FormEvent, type ReactElement, type ReactNode } from 'react';
import type { Folder } from '../../api/types';
import { Button, TOUCH_TARGET } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';
import { UserText } from '../../components/UserText';
import { ITEM_DRAG_TYPE, type FoldersApi } from './useFolders';

/**
 * Folders beside the item list: choose one to list its items, drop an item row on one to move
 * it there, and create, rename or delete (contents go to the trash) the chosen folder.
 */
export function FolderTree({
  api,
  selected,
  onSelect,
  onMoved,
  showError = true,
}: {
  api: FoldersApi;
  selected: string | null;
  onSelect: (id: string | null) => void;
  onMoved: () => void;
  /** False while the page already announces the same failure (offline: the list failed too). */
  showError?: boolean;
}) {
  const [dialog, setDialog] = useState<null | 'create' | 'rename' | 'delete'>(null);
  const [over, setOver] = useState<string | null | undefined>(undefined);
  const current = selected ? api.folders.find((f) => f.id === selected) : undefined;

  const drop = (folderId: string | null) => async (e: DragEvent) => {
    const itemId = e.dataTransfer.getData(ITEM_DRAG_TYPE);
    setOver(undefined);
    if (!itemId) return;
    e.preventDefault();
    if (await api.moveItem(itemId, folderId)) onMoved();
  };
  const dragOver = (id: string | null) => (e: DragEvent) => {
    if (!e.dataTransfer.types.includes(ITEM_DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    setOver(id);
  };

  const node = (f: Folder | null, depth: number) => {
    const id = f?.id ?? null;
    return (
      <button
        type="button"
        aria-current={selected === id ? 'true' : undefined}
        onClick={() => onSelect(id)}
        onDragOver={dragOver(id)}
        onDragLeave={() => setOver(undefined)}
        onDrop={drop(id)}
        style={{ paddingLeft: `${0.75 + depth * 0.9}rem` }}
        className={`flex w-full items-center gap-2 rounded-lg py-1.5 pr-2 text-left text-sm focus-visible:outline-2 focus-visible:outline-teal-600 ${TOUCH_TARGET} ${selected === id ? 'bg-teal-50 font-medium text-teal-900' : 'text-stone-700 hover:bg-stone-100'} ${over === id ? 'ring-2 ring-teal-600' : ''}`}
      >
        <svg viewBox="0 0 20 20" className="h-4 w-4 shrink-0 text-stone-400" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.6">
          <path d="M2.5 5.5h5l1.5 2h8.5v8h-15z" />
        </svg>
        {f ? <UserText className="min-w-0 flex-1 truncate">{f.name}</UserText> : <span className="min-w-0 flex-1 truncate">All items</span>}
        {f && <span className="text-xs tabular-nums text-stone-400">{f.count}</span>}
      </button>
    );
  };

  const tree = (parentId: string | null, depth: number): ReactElement[] =>
    api.folders
      .filter((f) => f.parentId === parentId)
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((f) => [<li key={f.id}>{node(f, depth)}</li>, ...tree(f.id, depth + 1)]);

  return (
    <nav aria-label="Folders" className="w-full">
      <ul className="space-y-0.5">
        <li>{node(null, 0)}</li>
        {tree(null, 1)}
      </ul>
      <div className="mt-3 flex flex-wrap gap-1">
        <Button size="sm" variant="secondary" onClick={() => setDialog('create')}>
          New folder
        </Button>
        {current && (
          <>
            <Button size="sm" variant="ghost" onClick={() => setDialog('rename')}>
              Rename
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setDialog('delete')}>
              Delete
            </Button>
          </>
        )}
      </div>
      {/* While the name dialog is open it shows the server's answer itself ("already exists here"), in front of the tree. */}
      {showError && dialog !== 'create' && dialog !== 'rename' && <ErrorText error={api.error} className="mt-2" />}
      <NameDialog
        open={dialog === 'create' || dialog === 'rename'}
        serverError={api.error}
        title={
          dialog === 'rename' ? (
            'Rename folder'
          ) : current ? (
            <>
              New folder in <UserText>{current.name}</UserText>
            </>
          ) : (
            'New folder'
          )
        }
        initial={dialog === 'rename' ? (current?.name ?? '') : ''}
        onClose={() => setDialog(null)}
        onSubmit={async (name) => {
          const ok = dialog === 'rename' && current ? await api.rename(current.id, name) : await api.create(name, selected);
          if (ok) setDialog(null);
        }}
      />
      <Dialog
        open={dialog === 'delete'}
        onOpenChange={(o) => !o && setDialog(null)}
        title={
          <>
            Delete “<UserText>{current?.name ?? ''}</UserText>”?
          </>
        }
        description="The folder and its subfolders are deleted; everything in them moves to the trash, where you can restore it."
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setDialog(null)}>
            Cancel
          </Button>
          <Button
            onClick={async () => {
              if (!current) return;
              await api.remove(current.id);
              setDialog(null);
              onSelect(current.parentId);
              onMoved();
            }}
          >
            Delete folder
          </Button>
        </div>
      </Dialog>
    </nav>
  );
}

function NameDialog({
  open,
  title,
  initial,
  onClose,
  onSubmit,
  serverError,
}: {
  open: boolean;
  title: ReactNode;
  initial: string;
  onClose: () => void;
  onSubmit: (name: string) => Promise<void>;
  /** The last create or rename's failure, shown on the name field (a name a sibling already has). */
  serverError?: unknown;
}) {
  const [name, setName] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setName(initial);
      setProblem(null);
    }
  }, [open, initial]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Spaces only pass the browser's `required`: say why nothing happens instead of ignoring Save.
    if (!name.trim()) return setProblem('Type a name for the folder: it cannot be blank or only spaces.');
    setProblem(null);
    setBusy(true);
    await onSubmit(name.trim());
    setBusy(false);
  };
  return (
    <Dialog open={open} onOpenChange={(o) => !o && onClose()} title={title}>
      <form onSubmit={submit} className="space-y-4" key={String(open)}>
        <TextField
          label="Folder name"
          required
          autoFocus
          defaultValue={initial}
          onChange={(e) => {
            setName(e.target.value);
            if (problem && e.target.value.trim()) setProblem(null);
          }}
          maxLength={200}
          error={problem ?? (!busy && serverError instanceof Error ? serverError.message : undefined)}
        />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" busy={busy}>
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Where the list is: All items › Health › Labs, each step a way back up. */
export function Breadcrumbs({ trail, onSelect }: { trail: Folder[]; onSelect: (id: string | null) => void }) {
  return (
    <nav aria-label="Breadcrumbs" className="mb-2 text-sm text-stone-600">
      <ol className="flex flex-wrap items-center gap-1">
        <li>
          <button
            type="button"
            className={`hover:underline ${TOUCH_TARGET}`}
            onClick={() => onSelect(null)}
            aria-current={trail.length === 0 ? 'page' : undefined}
          >
            All items
          </button>
        </li>
        {trail.map((f, i) => (
          <li key={f.id} className="flex items-center gap-1">
            <span aria-hidden="true">›</span>
            <button
              type="button"
              className={`hover:underline ${TOUCH_TARGET}`}
              onClick={() => onSelect(f.id)}
              aria-current={i === trail.length - 1 ? 'page' : undefined}
            >
              <UserText>{f.name}</UserText>
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
