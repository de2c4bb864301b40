import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Item, VersionDiff, VersionSummary } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';
import { formatDateTime } from '../../components/format';
import { UserText } from '../../components/UserText';

const WHO = { this: 'this session', other: 'another session' } as const;

/** Earlier versions of an item: pick one to compare with the current text and restore it. */
export function HistoryPanel({ item, onRestored }: { item: Item; onRestored: (item: Item) => void }) {
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [diff, setDiff] = useState<VersionDiff | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setVersions(null);
    api
      .get<{ versions: VersionSummary[] }>(`/api/items/${item.id}/versions`)
      .then((r) => setVersions(r.versions))
      .catch(setError);
  }, [item.id, item.version]);

  useEffect(() => {
    setDiff(null);
    if (selected === null) return;
    api.get<VersionDiff>(`/api/items/${item.id}/versions/${selected}/diff`).then(setDiff, setError);
  }, [item.id, selected, item.version]);

  const restore = async () => {
    if (selected === null) return;
    setBusy(true);
    setError(null);
    try {
      onRestored(await api.post<Item>(`/api/items/${item.id}/versions/${selected}/restore`, { baseVersion: item.version }));
      setSelected(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="History" className="mt-6 rounded-xl border border-stone-200 bg-white p-4 shadow-sm">
      <h2 className="mb-3 text-sm font-semibold text-stone-800">History</h2>
      <ErrorText error={error} className="mb-2" />
      {!versions ? (
        <p className="text-sm text-stone-500">Loading…</p>
      ) : (
        <div className="grid gap-4 md:grid-cols-[16rem_1fr]">
          <ol aria-label="Versions" className="space-y-1">
            {versions.map((v) => (
              <li key={v.version}>
                <button
                  type="button"
                  disabled={v.current}
                  aria-pressed={selected === v.version}
                  onClick={() => setSelected(v.version)}
                  className={`w-full rounded-lg px-3 py-2 text-left text-sm focus-visible:outline-2 focus-visible:outline-teal-600 ${selected === v.version ? 'bg-teal-50 ring-1 ring-teal-600' : 'hover:bg-stone-50'} disabled:cursor-default`}
                >
                  <span className="block font-medium text-stone-900">
                    Version {v.version}
                    {v.current ? ' (current)' : ''}
                  </span>
                  <span className="block truncate text-xs text-stone-500">
                    {formatDateTime(v.updatedAt)}
                    {v.savedBy ? ` · ${WHO[v.savedBy]}` : ''}
                  </span>
                </button>
              </li>
            ))}
          </ol>
          <div>
            {selected === null ? (
              <p className="text-sm text-stone-500">
                {versions.length > 1 ? 'Choose a version to compare it with the current one.' : 'No earlier versions yet.'}
              </p>
            ) : !diff ? (
              <p className="text-sm text-stone-500">Loading…</p>
            ) : (
              <div>
                <p className="mb-2 text-sm text-stone-700">
                  Changes from version {diff.from} to the current version {diff.to}
                  {diff.title.before !== diff.title.after && (
                    <>
                      {' '}
                      · title was “
                      <del>
                        <UserText>{diff.title.before}</UserText>
                      </del>
                      ”
                    </>
                  )}
                </p>
                <pre aria-label="Differences" className="max-h-80 overflow-auto rounded-lg bg-stone-50 p-3 font-mono text-xs leading-relaxed">
                  {diff.text.flatMap((c, i) =>
                    c.lines.map((l, j) => (
                      <span
                        key={`${i}.${j}`}
                        className={`block ${c.op === 'added' ? 'bg-emerald-50 text-emerald-900' : c.op === 'removed' ? 'bg-rose-50 text-rose-900 line-through' : 'text-stone-600'}`}
                      >
                        {c.op === 'added' ? '+ ' : c.op === 'removed' ? '− ' : '  '}
                        {l}
                      </span>
                    )),
                  )}
                </pre>
                <div className="mt-3 flex justify-end">
                  <Button onClick={restore} busy={busy}>
                    Restore version {selected}
                  </Button>
                </div>
              </div>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
