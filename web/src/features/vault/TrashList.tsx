import { useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import type { Item } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { EmptyState, ErrorText } from '../../components/ui/Feedback';
import { focusPageHeading, focusRowControl } from '../../components/focus';
import { formatDate } from '../../components/format';
import { UserText } from '../../components/UserText';
import { KindIcon } from './ItemRow';

export function TrashList({ onRestored }: { onRestored: () => void }) {
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmEmpty, setConfirmEmpty] = useState(false);
  // "Delete for good" on one item asks first, as "Empty trash" does: it cannot be undone.
  const [confirmOne, setConfirmOne] = useState<Item | null>(null);

  // The row that was restored or deleted: focus goes to the next one's Restore once it is gone.
  const [removedAt, setRemovedAt] = useState<number | null>(null);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (removedAt === null || busy) return;
    setRemovedAt(null);
    focusRowControl(list.current, removedAt, 'button[data-restore]', focusPageHeading);
  }, [removedAt, busy, items]);

  useEffect(() => {
    api
      .get<{ items: Item[] }>('/api/trash?text=preview')
      .then((r) => setItems(r.items))
      .catch(setError);
  }, []);

  const restore = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await api.post<Item>(`/api/items/${id}/restore`);
      setRemovedAt(items?.findIndex((i) => i.id === id) ?? 0);
      setItems((prev) => prev?.filter((i) => i.id !== id) ?? null);
      onRestored();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const forever = async (id: string | null) => {
    setBusy(id ?? 'all');
    setError(null);
    try {
      await api.del(id ? `/api/trash/${id}` : '/api/trash');
      setRemovedAt(id ? (items?.findIndex((i) => i.id === id) ?? 0) : 0);
      setItems((prev) => (id ? (prev?.filter((i) => i.id !== id) ?? null) : []));
      setConfirmEmpty(false);
      setConfirmOne(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  if (error && !items) return <ErrorText error={error} />;
  if (!items) return <p className="text-sm text-stone-500">Loading…</p>;
  if (!items.length) return <EmptyState title="Trash is empty">Items you move to the trash appear here until you restore them.</EmptyState>;
  return (
    <>
      <div className="mb-3 flex items-center justify-between gap-2">
        <p className="text-xs text-stone-500">Items in the trash are deleted for good after the retention period.</p>
        <Button size="sm" variant="secondary" onClick={() => setConfirmEmpty(true)}>
          Empty trash
        </Button>
      </div>
      <Dialog
        open={confirmEmpty}
        onOpenChange={setConfirmEmpty}
        title="Empty the trash?"
        description={`${items.length} item${items.length === 1 ? '' : 's'} and their history and files are deleted for good. This cannot be undone.`}
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirmEmpty(false)}>
            Cancel
          </Button>
          <Button busy={busy === 'all'} onClick={() => forever(null)}>
            Delete for good
          </Button>
        </div>
      </Dialog>
      <Dialog
        open={confirmOne !== null}
        onOpenChange={(o) => !o && setConfirmOne(null)}
        title={
          <>
            Delete “<UserText>{confirmOne?.title || 'Untitled'}</UserText>” for good?
          </>
        }
        description="The item, its history and its file are deleted for good. This cannot be undone."
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirmOne(null)}>
            Cancel
          </Button>
          <Button busy={confirmOne !== null && busy === confirmOne.id} onClick={() => confirmOne && forever(confirmOne.id)}>
            Delete for good
          </Button>
        </div>
      </Dialog>
      <ErrorText error={error} className="mb-3" />
      <ul ref={list} className="divide-y divide-stone-100 overflow-hidden rounded-xl border border-stone-200 bg-white shadow-sm" aria-label="Trash">
        {items.map((i) => (
          // On a phone the buttons go under the title, which would otherwise be squeezed to nothing.
          <li key={i.id} className="flex flex-wrap items-center gap-x-3 gap-y-2 px-4 py-3">
            <div className="flex min-w-0 grow basis-full items-center gap-3 sm:basis-0" data-testid="trash-row-title">
              <span className="shrink-0 text-stone-400">
                <KindIcon kind={i.kind} />
              </span>
              <UserText className="min-w-0 flex-1 truncate text-sm font-medium text-stone-800" title={i.title || 'Untitled'}>
                {i.title || 'Untitled'}
              </UserText>
              <span className="shrink-0 text-xs text-stone-500">{formatDate(i.updatedAt)}</span>
            </div>
            <div className="ml-auto flex shrink-0 gap-2">
              <Button size="sm" variant="secondary" data-restore busy={busy === i.id} onClick={() => restore(i.id)} aria-label={`Restore ${i.title || 'item'}`}>
                Restore
              </Button>
              <Button size="sm" variant="ghost" busy={busy === i.id} onClick={() => setConfirmOne(i)} aria-label={`Delete ${i.title || 'item'} for good`}>
                Delete for good
              </Button>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
