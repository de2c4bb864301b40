import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Extraction, Item } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { Badge } from '../../components/ui/Feedback';

/** Whether the file's text is missing (so search and chat cannot see it). */
export const unreadable = (e: Extraction | undefined): e is Extraction => !!e && (e.status === 'failed' || e.status === 'none');

/** The list's badge: "can't read this file" with the reason, or "reading…" while a job runs. */
export function ExtractionBadge({ extraction, truncate }: { extraction?: Extraction; truncate?: boolean }) {
  if (extraction?.status === 'pending') return <Badge tone="sky">Reading…</Badge>;
  if (!unreadable(extraction)) return null;
  const text = `Can't read this file${extraction.reason ? `: ${extraction.reason}` : ''}`;
  return (
    <span data-testid="unreadable-badge" className={truncate ? 'block min-w-0' : undefined}>
      <Badge tone="amber" truncate={truncate} title={truncate ? text : undefined}>
        {text}
      </Badge>
    </span>
  );
}

/** Reasons no second read can change: the same bytes get the same answer (the server has no PDF password). */
const FINAL_REASONS = new Set(['unsupported type', 'encrypted PDF']);

/** The person's edit was kept over the file's text: reading again replaces it, on purpose. */
const EDITED = /^the text was edited/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The item view's notice for a file whose text could not be read, with "Read again": a job on
 * the server (OCR can take minutes), followed until it ends, then the item reloaded.
 */
export function ExtractionNotice({ item, onChange }: { item: Item; onChange: (item: Item) => void }) {
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const e = item.extraction;
  const pending = e?.status === 'pending' && !busy;
  // A read still running from the upload: look again now and then until it ends.
  useEffect(() => {
    if (!pending) return;
    let stop = false;
    const timer = setInterval(() => {
      api.get<Item>(`/api/items/${item.id}`).then(
        (next) => {
          if (!stop && next.extraction?.status !== 'pending') onChange(next);
        },
        () => {},
      );
    }, 2000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [pending, item.id, onChange]);
  // A read that worked in part (text cut, pages past the OCR limit, or the person's own edit
  // kept over the file's text) says so: search and chat see only what is there.
  if (!e || (e.status === 'ok' && !e.reason)) return null;
  const partial = e.status === 'ok';

  const readAgain = async () => {
    setBusy(true);
    setError(null);
    try {
      const { jobId } = await api.post<{ jobId: string }>(`/api/items/${item.id}/extract`);
      for (;;) {
        const job = await api.get<{ status: string; progress: { done: number; total?: number } }>(`/api/jobs/${jobId}`);
        if (job.progress.total) setProgress(`Page ${job.progress.done} of ${job.progress.total}`);
        if (job.status === 'done' || job.status === 'failed') break;
        await sleep(500);
      }
      onChange(await api.get<Item>(`/api/items/${item.id}`));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not read the file again.');
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  const canReadAgain = partial ? !!e.reason && EDITED.test(e.reason) : !(e.status !== 'pending' && e.reason && FINAL_REASONS.has(e.reason));

  return (
    <section aria-label="File text" className="mb-4 flex flex-wrap items-center gap-3 rounded-xl border border-amber-200 bg-amber-50 px-4 py-3">
      <p role="status" className="flex-1 text-sm text-amber-900">
        {e.status === 'pending' || busy ? (
          <>Reading this file{progress ? ` (${progress})` : ''}…</>
        ) : partial ? (
          <>{`${e.reason!.charAt(0).toUpperCase()}${e.reason!.slice(1)}.`}</>
        ) : (
          <>
            <ExtractionBadge extraction={e} /> Search and chat cannot see its contents.
          </>
        )}
      </p>
      {canReadAgain && (
        <Button variant="secondary" onClick={readAgain} busy={busy}>
          Read again
        </Button>
      )}
      {error && <p className="w-full text-sm text-red-700">{error}</p>}
    </section>
  );
}
