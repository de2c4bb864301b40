import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, qs } from '../../api/client';
import type { Series } from '../../api/types';
import { Link } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { Card, EmptyState, ErrorText, PageHeader } from '../../components/ui/Feedback';
import { formatDate, isoDay } from '../../components/format';
import { useItems } from '../vault/useItems';
import { Importer } from './Importers';
import { ValueWithRange } from './RecordDetails';
import type { ChartSeries } from './SeriesChart';

const SeriesChart = lazy(() => import('./SeriesChart'));

interface Metric {
  key: string;
  title: string;
  mode: 'line' | 'bar';
  digits: number;
  types: { code: string; label: string; color: string }[];
  unitLabel?: string;
}

export const METRICS: Metric[] = [
  { key: 'hr', title: 'Heart rate', mode: 'line', digits: 0, unitLabel: 'bpm', types: [{ code: 'HKQuantityTypeIdentifierHeartRate', label: 'Heart rate', color: 'var(--chart-hr)' }] },
  { key: 'steps', title: 'Steps', mode: 'bar', digits: 0, unitLabel: 'steps', types: [{ code: 'HKQuantityTypeIdentifierStepCount', label: 'Steps', color: 'var(--chart-steps)' }] },
  {
    key: 'bp',
    title: 'Blood pressure',
    mode: 'line',
    digits: 0,
    unitLabel: 'mmHg',
    types: [
      { code: '8480-6', label: 'Systolic', color: 'var(--chart-systolic)' },
      { code: '8462-4', label: 'Diastolic', color: 'var(--chart-diastolic)' },
    ],
  },
  { key: 'weight', title: 'Weight', mode: 'line', digits: 1, types: [{ code: 'HKQuantityTypeIdentifierBodyMass', label: 'Weight', color: 'var(--chart-weight)' }] },
];

const RANGES = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
];

function rangeFor(days: number): { from: string; to: string } {
  const to = new Date();
  const from = new Date(to);
  from.setDate(from.getDate() - (days - 1));
  return { from: isoDay(from), to: isoDay(to) };
}

function prettyUnit(u: string): string {
  return ({ '/min': 'bpm', 'count/min': 'bpm', 'mm[Hg]': 'mmHg', count: 'steps' } as Record<string, string>)[u] ?? u;
}

function MetricCard({ metric, from, to, version }: { metric: Metric; from: string; to: string; version: number }) {
  const [data, setData] = useState<{ series: ChartSeries[]; unit: string } | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    Promise.all(metric.types.map((t) => api.get<Series>(`/api/records/series${qs({ type: t.code, from, to })}`)))
      .then((res) => {
        if (!live) return;
        setData({
          unit: prettyUnit(res.find((r) => r.unit)?.unit ?? metric.unitLabel ?? ''),
          series: res.map((r, i) => ({ label: metric.types[i]!.label, color: metric.types[i]!.color, days: r.days ?? [] })),
        });
      })
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [metric, from, to, version]);

  const hasData = data?.series.some((s) => s.days.length > 0);
  const latest = data?.series.map((s) => {
    const d = [...s.days].sort((a, b) => a.date.localeCompare(b.date)).at(-1);
    return d ? { label: s.label, v: metric.mode === 'bar' ? d.sum : d.mean, date: d.date } : null;
  });

  return (
    <section className="rounded-xl border border-stone-200 bg-white p-5 shadow-sm" aria-label={metric.title} data-testid={`metric-${metric.key}`}>
      <div className="mb-3 flex items-baseline justify-between gap-2">
        <h3 className="text-sm font-semibold text-stone-900">{metric.title}</h3>
        {hasData && latest && (
          <p className="text-right text-xs text-stone-500">
            Latest{' '}
            <span className="text-base font-semibold tabular-nums text-stone-900">
              {latest
                .filter(Boolean)
                .map((l) => Math.round(l!.v * 10 ** metric.digits) / 10 ** metric.digits)
                .map((v) => v.toLocaleString())
                .join('/')}
            </span>{' '}
            {data?.unit}
          </p>
        )}
      </div>
      {error ? (
        <ErrorText error={error} />
      ) : !data ? (
        <div className="h-40 animate-pulse rounded-lg bg-stone-100" />
      ) : !hasData ? (
        <div className="flex h-40 items-center justify-center rounded-lg bg-stone-50 text-center text-sm text-stone-500">No {metric.title.toLowerCase()} data in this range.</div>
      ) : (
        <Suspense fallback={<div className="h-40 animate-pulse rounded-lg bg-stone-100" />}>
          <SeriesChart title={metric.title} unit={data.unit} series={data.series} mode={metric.mode} from={from} to={to} digits={metric.digits} />
          {data.series.length > 1 && (
            <div className="mt-1 flex gap-4 text-xs text-stone-600">
              {data.series.map((s) => (
                <span key={s.label} className="flex items-center gap-1">
                  <span className="inline-block h-2 w-2 rounded-full" style={{ background: s.color }} /> {s.label}
                </span>
              ))}
            </div>
          )}
        </Suspense>
      )}
    </section>
  );
}

const LISTS = [
  { tag: 'condition', title: 'Conditions', empty: 'No conditions recorded.' },
  { tag: 'medication', title: 'Medications', empty: 'No medications recorded.' },
  { tag: 'allergy', title: 'Allergies', empty: 'No allergies recorded.' },
  { tag: 'laboratory', title: 'Lab results', empty: 'No lab results yet.' },
];

function RecordList({ tag, title, empty, version }: { tag: string; title: string; empty: string; version: number }) {
  const list = useItems({ kind: 'record', tag }, 50);
  useEffect(() => {
    if (version) list.reload();
  }, [version]);
  return (
    <Card title={title}>
      <ErrorText error={list.error} />
      {list.items.length === 0 && !list.loading && !list.error ? (
        <p className="text-sm text-stone-500">{empty}</p>
      ) : (
        <ul className="-mx-2 divide-y divide-stone-100">
          {list.items.map((i) => (
            <li key={i.id}>
              <Link to={`/vault/${i.id}`} className="block rounded-md px-2 py-2.5 hover:bg-stone-50 focus-visible:outline-2 focus-visible:outline-teal-600">
                <span className="flex items-baseline justify-between gap-3">
                  <span className="min-w-0 truncate text-sm font-medium text-stone-900">{i.title}</span>
                  <span className="shrink-0 text-xs text-stone-500">{formatDate(i.occurredAt)}</span>
                </span>
                <ValueWithRange item={i} />
              </Link>
            </li>
          ))}
        </ul>
      )}
      {!list.done && list.items.length > 0 && (
        <Button size="sm" variant="ghost" className="mt-2" onClick={list.loadMore} busy={list.loading}>
          Show more
        </Button>
      )}
    </Card>
  );
}

export default function HealthPage() {
  const [days, setDays] = useState<number | null>(30);
  const [range, setRange] = useState(() => rangeFor(30));
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);

  const pick = (d: number) => {
    setDays(d);
    setRange(rangeFor(d));
  };

  return (
    <div>
      <PageHeader title="Health" description="Your health data, imported from your devices and providers, stays encrypted in your vault." />

      <section aria-labelledby="import-h" className="mb-10">
        <h2 id="import-h" className="mb-3 text-lg font-semibold text-stone-900">
          Import
        </h2>
        <div className="grid gap-4 md:grid-cols-3">
          <Importer kind="apple" onImported={bump} />
          <Importer kind="fhir" onImported={bump} />
          <Importer kind="fitbit" onImported={bump} />
        </div>
      </section>

      <section aria-labelledby="trends-h" className="mb-10">
        <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
          <h2 id="trends-h" className="text-lg font-semibold text-stone-900">
            Trends
          </h2>
          <div className="flex flex-wrap items-end gap-3">
            <div role="group" aria-label="Range" className="flex rounded-lg bg-stone-200/70 p-0.5">
              {RANGES.map((r) => (
                <button
                  key={r.days}
                  type="button"
                  aria-pressed={days === r.days}
                  onClick={() => pick(r.days)}
                  className={`rounded-md px-3 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-teal-600 ${days === r.days ? 'bg-white text-stone-900 shadow-sm' : 'text-stone-600 hover:text-stone-900'}`}
                >
                  {r.label}
                </button>
              ))}
            </div>
            <label className="text-xs text-stone-600">
              From
              <input
                type="date"
                value={range.from}
                max={range.to}
                onChange={(e) => {
                  if (!e.target.value) return;
                  setDays(null);
                  setRange((r) => ({ ...r, from: e.target.value }));
                }}
                className="ml-1 rounded-md border border-stone-300 bg-white px-2 py-1 text-sm"
              />
            </label>
            <label className="text-xs text-stone-600">
              To
              <input
                type="date"
                value={range.to}
                min={range.from}
                onChange={(e) => {
                  if (!e.target.value) return;
                  setDays(null);
                  setRange((r) => ({ ...r, to: e.target.value }));
                }}
                className="ml-1 rounded-md border border-stone-300 bg-white px-2 py-1 text-sm"
              />
            </label>
          </div>
        </div>
        <div className="grid gap-4 lg:grid-cols-2">
          {METRICS.map((m) => (
            <MetricCard key={m.key} metric={m} from={range.from} to={range.to} version={version} />
          ))}
        </div>
      </section>

      <section aria-labelledby="records-h">
        <h2 id="records-h" className="mb-3 text-lg font-semibold text-stone-900">
          Records
        </h2>
        <div className="grid gap-4 lg:grid-cols-2">
          {LISTS.map((l) => (
            <RecordList key={l.tag} {...l} version={version} />
          ))}
        </div>
        <div className="mt-6">
          <EmptyState title="Connect a provider">
            Import a FHIR file above, or <Link to="/connections" className="font-medium text-teal-800 hover:underline">connect MyChart or Fitbit</Link> to keep records up to date.
          </EmptyState>
        </div>
      </section>
    </div>
  );
}
