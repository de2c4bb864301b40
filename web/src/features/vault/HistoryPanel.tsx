import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { Item, VersionDiff, VersionSummary } from '../../api/types';
import { Button } from '../../components/ui/Button';
import { ErrorText } from '../../components/ui/Feedback';
import { formatDate, formatDateTime } from '../../components/format';
import { UserText } from '../../components/UserText';

const WHO = { this: 'this session', other: 'another session' } as const;

/** Unchanged lines kept on each side of a change; longer unchanged runs are folded. */
export const DIFF_CONTEXT = 3;
/** The most diff lines drawn: a diff of a 340,000-line note drawn whole froze the tab for 25 s. */
export const DIFF_MAX_LINES = 500;

type DiffRow = { op: 'same' | 'removed' | 'added'; line: string } | { op: 'fold'; count: number };

/**
 * The rows a diff is drawn with: unchanged runs folded to their context, at most `max` lines,
 * and the number of changed lines left undrawn. Walks only as far as it draws, then counts.
 */
export function diffRows(text: VersionDiff['text'], context = DIFF_CONTEXT, max = DIFF_MAX_LINES): { rows: DiffRow[]; moreChanged: number } {
  const rows: DiffRow[] = [];
  let drawn = 0;
  let moreChanged = 0;
  const draw = (op: 'same' | 'removed' | 'added', lines: string[], from: number, to: number) => {
    for (let k = from; k < to; k++) {
      if (drawn >= max) {
        if (op !== 'same') moreChanged += to - k;
        return;
      }
      rows.push({ op, line: lines[k]! });
      drawn++;
    }
  };
  text.forEach((c, i) => {
    if (c.op !== 'same') return draw(c.op, c.lines, 0, c.lines.length);
    if (drawn >= max) return;
    const head = i === 0 ? 0 : context;
    const tail = i === text.length - 1 ? 0 : context;
    if (c.lines.length <= head + tail + 1) return draw('same', c.lines, 0, c.lines.length);
    draw('same', c.lines, 0, head);
    if (drawn < max) rows.push({ op: 'fold', count: c.lines.length - head - tail });
    draw('same', c.lines, c.lines.length - tail, c.lines.length);
  });
  return { rows, moreChanged };
}

const n = (x: number) => x.toLocaleString('en-US');

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
                <OtherChanges diff={diff} />
                <DiffText text={diff.text} />
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

/** What changed besides the text: tags and the date the item is about. */
function OtherChanges({ diff }: { diff: VersionDiff }) {
  const date = diff.occurredAt && diff.occurredAt.before !== diff.occurredAt.after ? diff.occurredAt : null;
  if (!diff.tags.removed.length && !diff.tags.added.length && !date) return null;
  const when = (d: string | null) => (d ? formatDate(d) : 'none');
  return (
    <ul aria-label="Other changes" className="mb-2 space-y-1 text-sm text-stone-700">
      {diff.tags.removed.length > 0 && (
        <li>
          Tags removed since: <UserText>{diff.tags.removed.join(' · ')}</UserText>
        </li>
      )}
      {diff.tags.added.length > 0 && (
        <li>
          Tags added since: <UserText>{diff.tags.added.join(' · ')}</UserText>
        </li>
      )}
      {date && (
        <li>
          Date: {when(date.before)} → {when(date.after)}
        </li>
      )}
    </ul>
  );
}

function DiffText({ text }: { text: VersionDiff['text'] }) {
  const { rows, moreChanged } = diffRows(text);
  return (
    <>
      <pre aria-label="Differences" className="max-h-80 overflow-auto rounded-lg bg-stone-50 p-3 font-mono text-xs leading-relaxed">
        {rows.map((r, i) =>
          r.op === 'fold' ? (
            <span key={i} className="block italic text-stone-400">
              ⋯ {n(r.count)} unchanged lines
            </span>
          ) : (
            <span
              key={i}
              className={`block ${r.op === 'added' ? 'bg-emerald-50 text-emerald-900' : r.op === 'removed' ? 'bg-rose-50 text-rose-900 line-through' : 'text-stone-600'}`}
            >
              {r.op === 'added' ? '+ ' : r.op === 'removed' ? '− ' : '  '}
              {r.line}
            </span>
          ),
        )}
      </pre>
      {moreChanged > 0 && (
        <p className="mt-1 text-xs text-stone-500">
          {n(moreChanged)} more lines changed. Only the first {n(DIFF_MAX_LINES)} lines of the differences are shown.
        </p>
      )}
    </>
  );
}
