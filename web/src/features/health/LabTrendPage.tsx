import { lazy, Suspense, useEffect, useState } from 'react';
import { api, qs } from '../../api/client';
import { Link } from '../../app/router';
import { Card, ErrorText, PageHeader } from '../../components/ui/Feedback';
import { formatDate, formatDay, SOURCE_LABELS } from '../../components/format';
import { UserText } from '../../components/UserText';
import { labValue, type LabTrend } from './health-api';
import { plural } from './plural';
import { usePageTitle } from '../../components/usePageTitle';

const LabChart = lazy(() => import('./LabChart'));

const FLAG_TEXT: Record<string, string> = { high: 'High', low: 'Low', abnormal: 'Abnormal', normal: 'Normal' };

/** Every value of one lab test over time, across sources, in the unit the person picks. */
export default function LabTrendPage({ code }: { code: string }) {
  usePageTitle('Lab result');
  const [unit, setUnit] = useState<string | undefined>();
  const [trend, setTrend] = useState<LabTrend | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    api
      .get<LabTrend>(`/api/records/labs/${encodeURIComponent(code)}${qs({ unit })}`)
      .then((t) => live && setTrend(t))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [code, unit]);

  const range = trend?.referenceRange;
  return (
    <div>
      <p className="mb-2 text-sm">
        <Link to="/health" className="text-teal-800 hover:underline">
          ← Health
        </Link>
      </p>
      <PageHeader
        title={trend ? <UserText>{trend.name}</UserText> : 'Lab result'}
        description={
          trend
            ? `${trend.panel} · ${plural(trend.points.length, 'result')} · reference range ${range ? `${range.low ?? '…'}–${range.high ?? '…'} ${trend.unit}` : 'not given'}`
            : undefined
        }
        actions={
          trend && trend.units.length > 1 ? (
            <div role="group" aria-label="Unit" className="flex rounded-lg bg-stone-200/70 p-0.5">
              {trend.units.map((u) => (
                <button
                  key={u}
                  type="button"
                  aria-pressed={trend.unit === u}
                  onClick={() => setUnit(u)}
                  className={`rounded-md px-3 py-1 text-sm font-medium ${trend.unit === u ? 'bg-white text-stone-900 shadow-sm' : 'text-stone-600 hover:text-stone-900'}`}
                >
                  {u}
                </button>
              ))}
            </div>
          ) : undefined
        }
      />
      <ErrorText error={error} />
      {trend && (
        <>
          <Card className="mb-6">
            <Suspense fallback={<div className="h-56 animate-pulse rounded-lg bg-stone-100" />}>
              <LabChart name={trend.name} unit={trend.unit} points={trend.points} range={range} />
            </Suspense>
          </Card>
          <Card title="All results">
            <table className="w-full text-left text-sm">
              <thead className="text-xs text-stone-500">
                <tr>
                  <th className="py-1 font-medium">Date</th>
                  <th className="py-1 font-medium">Value</th>
                  <th className="py-1 font-medium">Range</th>
                  <th className="py-1 font-medium">Flag</th>
                  <th className="py-1 font-medium">Source</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-stone-100">
                {[...trend.points].reverse().map((p) => (
                  <tr key={p.itemId}>
                    <td className="py-1.5">{p.day ? formatDay(p.day) : formatDate(p.date)}</td>
                    <td className={`py-1.5 tabular-nums ${p.flag && p.flag !== 'normal' ? 'font-semibold text-red-700' : ''}`}>
                      {p.comparator ?? ''}
                      {labValue(p.value, p.unit)}
                    </td>
                    <td className="py-1.5 text-stone-600">{p.low !== undefined || p.high !== undefined ? `${p.low ?? ''}–${p.high ?? ''}` : ''}</td>
                    <td className="py-1.5">{p.flag ? FLAG_TEXT[p.flag] : ''}</td>
                    <td className="py-1.5">
                      <Link to={`/vault/${p.itemId}`} className="text-teal-800 hover:underline">
                        {SOURCE_LABELS[p.source] ?? p.source}
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </>
      )}
    </div>
  );
}
