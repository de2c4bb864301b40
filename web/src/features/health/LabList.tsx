import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { Link } from '../../app/router';
import { Card, ErrorText } from '../../components/ui/Feedback';
import { formatDate } from '../../components/format';
import { UserText } from '../../components/UserText';
import { labValue, type LabSummary } from './health-api';

const ARROW = { up: '↑', down: '↓', flat: '→' } as const;
const ARROW_TEXT = { up: 'rising', down: 'falling', flat: 'steady' } as const;

/** Lab results grouped by panel: each test's latest value, its flag and which way it is heading. */
export function LabList({ version }: { version: number }) {
  const [labs, setLabs] = useState<LabSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    setError(null);
    api.get<{ labs: LabSummary[] }>('/api/records/labs').then((r) => setLabs(r.labs), setError);
  }, [version, attempt]);
  const panels = [...new Set((labs ?? []).map((l) => l.panel))];
  return (
    <Card title="Lab results">
      <ErrorText error={error} onRetry={() => setAttempt((n) => n + 1)} />
      {labs && labs.length === 0 && <p className="text-sm text-stone-500">No lab results yet.</p>}
      <div className="space-y-4">
        {panels.map((panel) => (
          <section key={panel} aria-label={panel}>
            <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-stone-500">{panel}</h3>
            <ul className="-mx-2 divide-y divide-stone-100">
              {labs!
                .filter((l) => l.panel === panel)
                .map((l) => {
                  const out = l.latest.flag && l.latest.flag !== 'normal';
                  const row = 'flex items-baseline justify-between gap-3 rounded-md px-2 py-2';
                  const content = (
                    <>
                      <UserText className="min-w-0 truncate text-sm font-medium text-stone-900">{l.name}</UserText>
                      <span className="shrink-0 text-sm tabular-nums">
                        <span className={out ? 'font-semibold text-red-700' : 'text-stone-900'}>
                          {l.latest.value === undefined ? (
                            <UserText>{l.latest.text ?? ''}</UserText>
                          ) : (
                            `${l.latest.comparator ?? ''}${labValue(l.latest.value, l.latest.unit)}`
                          )}
                        </span>
                        {out && <span className="ml-1 text-xs text-red-700">{l.latest.flag}</span>}
                        {l.trend && (
                          <span className="ml-2 text-stone-500" aria-label={ARROW_TEXT[l.trend]} title={ARROW_TEXT[l.trend]}>
                            {ARROW[l.trend]}
                          </span>
                        )}
                        <span className="ml-2 text-xs text-stone-500">{formatDate(l.latest.date)}</span>
                      </span>
                    </>
                  );
                  return (
                    <li key={l.code}>
                      {/* A result in words has no chart to open (its trend route has no number to plot). */}
                      {l.latest.value === undefined ? (
                        <div className={row} data-testid={`lab-${l.code}`}>
                          {content}
                        </div>
                      ) : (
                        <Link to={`/health/labs/${encodeURIComponent(l.code)}`} className={`${row} hover:bg-stone-50`} data-testid={`lab-${l.code}`}>
                          {content}
                        </Link>
                      )}
                    </li>
                  );
                })}
            </ul>
          </section>
        ))}
      </div>
    </Card>
  );
}
