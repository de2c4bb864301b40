import { useEffect, useRef, useState } from 'react';
import { Link } from '../../app/router';
import { ProgressBar } from '../../components/ui/Feedback';
import { formatBytes } from '../../components/format';
import { UserText } from '../../components/UserText';
import type { UploadEntry } from './useUploads';

const STATUS: Record<UploadEntry['status'], string> = {
  queued: 'Waiting…',
  uploading: 'Uploading',
  processing: 'Encrypting and indexing…',
  done: 'Saved to your vault',
  duplicate: 'Already in your vault',
  failed: 'Failed',
};

const pending = (e: UploadEntry) => e.status === 'queued' || e.status === 'uploading' || e.status === 'processing';
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What finished, in one sentence; null where only failures did (each is an alert already). */
function summary(finished: UploadEntry[]): string | null {
  const saved = finished.filter((e) => e.status === 'done').length;
  const there = finished.filter((e) => e.status === 'duplicate').length;
  const failed = finished.filter((e) => e.status === 'failed').length;
  if (!saved && !there) return null;
  if (finished.length === 1) return saved ? `${finished[0]!.name} saved to your vault.` : `${finished[0]!.name} is already in your vault.`;
  const parts = [
    saved ? `${plural(saved, 'file', 'files')} saved to your vault` : '',
    there ? (saved ? `${there} already there` : `${plural(there, 'file is', 'files are')} already in your vault`) : '',
    failed ? `${failed} failed` : '',
  ];
  return `${parts.filter(Boolean).join(', ')}.`;
}

/**
 * Focus stays on Upload while files go up, so a screen reader hears when they are done: once, when
 * the last pending upload finishes, for everything that finished since the last time.
 */
function useUploadNews(entries: UploadEntry[]) {
  const told = useRef(new Set<string>());
  const [news, setNews] = useState({ text: '', n: 0 });
  useEffect(() => {
    if (entries.some(pending)) return;
    const fresh = entries.filter((e) => !told.current.has(e.key));
    if (!fresh.length) return;
    for (const e of fresh) told.current.add(e.key);
    const text = summary(fresh);
    if (text) setNews((prev) => ({ text, n: prev.n + 1 }));
  }, [entries]);
  return news;
}

export function UploadList({ entries, onCancel, onClear }: { entries: UploadEntry[]; onCancel: (key: string) => void; onClear: () => void }) {
  const news = useUploadNews(entries);
  // Mounted before any upload, so its first sentence is heard; a new span is news even when its
  // words are the same as the last one's.
  const live = (
    <div role="status" className="sr-only">
      <span key={news.n}>{news.text}</span>
    </div>
  );
  if (!entries.length) return <>{live}</>;
  const finished = entries.some((e) => e.status === 'done' || e.status === 'duplicate' || e.status === 'failed');
  return (
    <>
      {live}
      <section aria-label="Uploads" className="mb-6 rounded-xl border border-stone-200 bg-white p-4 shadow-sm">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="text-sm font-semibold text-stone-800">Uploads</h2>
          {finished && (
            <button
              type="button"
              onClick={onClear}
              className="text-xs font-medium text-stone-600 hover:text-stone-900 focus-visible:outline-2 focus-visible:outline-teal-600"
            >
              Clear finished
            </button>
          )}
        </div>
        <ul className="space-y-3">
          {entries.map((e) => (
            <li key={e.key} data-testid="upload-entry">
              <div className="flex items-center justify-between gap-3 text-sm">
                <span className="min-w-0 truncate font-medium text-stone-800">
                  {e.item && (e.status === 'done' || e.status === 'duplicate') ? (
                    <Link to={`/vault/${e.item.id}`} className="hover:underline">
                      <UserText>{e.name}</UserText>
                    </Link>
                  ) : (
                    <UserText>{e.name}</UserText>
                  )}
                  <span className="ml-2 font-normal text-stone-500">{formatBytes(e.size)}</span>
                </span>
                <span
                  className={`shrink-0 text-xs ${e.status === 'failed' ? 'text-red-700' : 'text-stone-600'}`}
                  role={e.status === 'failed' ? 'alert' : undefined}
                >
                  {e.status === 'uploading' ? `${Math.round(e.progress * 100)}%` : STATUS[e.status]}
                  {e.error ? ` — ${e.error}` : ''}
                </span>
                {(e.status === 'queued' || e.status === 'uploading') && (
                  <button
                    type="button"
                    onClick={() => onCancel(e.key)}
                    className="shrink-0 text-xs text-stone-500 hover:text-stone-900"
                    aria-label={`Cancel upload of ${e.name}`}
                  >
                    Cancel
                  </button>
                )}
              </div>
              <ProgressBar className="mt-1.5" value={e.status === 'queued' ? 0 : e.progress} label={`Upload progress for ${e.name}`} />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
