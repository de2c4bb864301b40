import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { Link } from '../../app/router';
import { Badge, Card, ErrorText } from '../../components/ui/Feedback';
import { formatDate, formatDay, SOURCE_LABELS } from '../../components/format';
import { UserText } from '../../components/UserText';
import type { ClinicalEntry } from './health-api';

const LISTS = [
  {
    kind: 'medications',
    title: 'Medications',
    groups: [
      ['current', 'Current'],
      ['past', 'Past'],
    ],
    empty: 'No medications recorded.',
  },
  {
    kind: 'conditions',
    title: 'Conditions',
    groups: [
      ['active', 'Active'],
      ['resolved', 'Resolved'],
    ],
    empty: 'No conditions recorded.',
  },
  {
    kind: 'allergies',
    title: 'Allergies',
    groups: [
      ['active', 'Active'],
      ['resolved', 'Resolved'],
    ],
    empty: 'No allergies recorded.',
  },
  {
    kind: 'immunizations',
    title: 'Immunizations',
    groups: [
      ['given', 'Given'],
      ['not-given', 'Not given'],
    ],
    empty: 'No immunizations recorded.',
  },
] as const;

function Sources({ e }: { e: ClinicalEntry }) {
  return (
    <span className="flex flex-wrap gap-1">
      {e.sources.map((s) => (
        <Link key={s.itemId} to={`/vault/${s.itemId}`} aria-label={`Source: ${SOURCE_LABELS[s.source] ?? s.source}`}>
          <Badge tone={s.source === 'manual' ? 'violet' : 'sky'}>{SOURCE_LABELS[s.source] ?? s.source}</Badge>
        </Link>
      ))}
    </span>
  );
}

function ClinicalList({ kind, title, groups, empty, version }: (typeof LISTS)[number] & { version: number }) {
  const [entries, setEntries] = useState<ClinicalEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [showPast, setShowPast] = useState(false);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    api.get<{ entries: ClinicalEntry[] }>(`/api/records/clinical/${kind}`).then((r) => setEntries(r.entries), setError);
  }, [kind, version, attempt]);
  return (
    <Card title={title}>
      <ErrorText error={error} onRetry={() => setAttempt((n) => n + 1)} />
      {entries && entries.length === 0 && <p className="text-sm text-stone-500">{empty}</p>}
      {groups.map(([g, label], gi) => {
        const list = (entries ?? []).filter((e) => e.group === g);
        if (!list.length) return null;
        const collapsed = gi > 0 && !showPast && list.length > 3;
        return (
          <section key={g} aria-label={`${label} ${title.toLowerCase()}`} className="mb-3">
            <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-stone-500">
              {label} ({list.length})
            </h3>
            <ul className={`divide-y divide-stone-100 ${kind === 'immunizations' ? 'border-l-2 border-teal-200 pl-3' : ''}`}>
              {(collapsed ? list.slice(0, 3) : list).map((e) => (
                <li key={e.key} className="py-2">
                  <div className="flex items-baseline justify-between gap-3">
                    <span className="text-sm font-medium text-stone-900">
                      <UserText>{e.name}</UserText>
                      {e.criticality === 'high' && <span className="ml-2 text-xs font-semibold text-red-700">high criticality</span>}
                    </span>
                    <span className="shrink-0 text-xs text-stone-500">
                      {/* The source's own date: an evening record is not moved to the next day by the browser's zone. */}
                      {e.day ? formatDay(e.day) : formatDate(e.date)}
                      {e.end ? ` – ${formatDate(e.end)}` : ''}
                    </span>
                  </div>
                  {(e.detail || e.reactions?.length || (e.status && kind === 'medications')) && (
                    <p className="text-xs text-stone-600">
                      {[e.status, e.detail, e.reactions?.length ? `Reactions: ${e.reactions.join(', ')}` : undefined].filter(Boolean).join(' · ')}
                    </p>
                  )}
                  <div className="mt-1">
                    <Sources e={e} />
                  </div>
                </li>
              ))}
            </ul>
            {collapsed && (
              <button type="button" className="text-xs font-medium text-teal-800 hover:underline" onClick={() => setShowPast(true)}>
                Show all {list.length}
              </button>
            )}
          </section>
        );
      })}
    </Card>
  );
}

/** Medications, conditions, allergies and immunizations as a clinician reads them, duplicates merged. */
export function ClinicalLists({ version }: { version: number }) {
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      {LISTS.map((l) => (
        <ClinicalList key={l.kind} {...l} version={version} />
      ))}
    </div>
  );
}
