import { useMemo, useState, type MouseEvent } from 'react';
import type { SeriesDay } from '../../api/types';
import { fmt, withUnit } from './health-api';
import { plural } from './plural';

export interface ChartSeries {
  label: string;
  color: string;
  /** One entry a bucket (a day, week or month); `days` is how many days of it have data (1 if unset). */
  days: (SeriesDay & { days?: number })[];
}

export interface SeriesChartProps {
  title: string;
  unit: string;
  series: ChartSeries[];
  /** `bar` plots daily sums (steps); `line` plots daily means with a min–max band. */
  mode: 'line' | 'bar';
  from: string;
  to: string;
  digits?: number;
  /** What one entry of `days` covers: the summary counts days, weeks or months with data. */
  resolution?: 'day' | 'week' | 'month';
}

const W = 640;
const H = 200;
const PAD = { l: 44, r: 12, t: 12, b: 26 };

function dayIndex(from: string, date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function niceTicks(min: number, max: number, count = 4): number[] {
  if (min === max) return [min];
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const start = Math.ceil(min / step) * step;
  const out: number[] = [];
  for (let v = start; v <= max + 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

/** "Jun 8"; with the year when the chart spans more than one ("Jun 8, 2019"); a month alone for monthly buckets ("Jun 2019"). */
function shortDate(iso: string, opts: { year: boolean; month: boolean }): string {
  const f: Intl.DateTimeFormatOptions = opts.month
    ? { month: 'short', year: 'numeric' }
    : { month: 'short', day: 'numeric', ...(opts.year ? { year: 'numeric' } : {}) };
  return new Intl.DateTimeFormat(undefined, { ...f, timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`));
}

/**
 * The chart's summary in words, each series on its own: "1 day with data, average 109/44 mmHg
 * (Systolic/Diastolic)". A mean is over the readings (each bucket weighs by its count); a daily
 * average of sums is over the days with data.
 */
export function describeSeries(
  title: string,
  unit: string,
  series: ChartSeries[],
  mode: 'line' | 'bar',
  range: { from: string; to: string },
  digits: number,
  resolution: 'day' | 'week' | 'month' = 'day',
): string {
  const withData = series.filter((s) => s.days.length > 0);
  if (!withData.length) return `${title}: no data in this range.`;
  const buckets = new Set(withData.flatMap((s) => s.days.map((d) => d.date))).size;
  const avgs = withData.map((s) => {
    if (mode === 'bar') {
      const days = s.days.reduce((a, d) => a + (d.days ?? 1), 0);
      return s.days.reduce((a, d) => a + d.sum, 0) / (days || 1);
    }
    const n = s.days.reduce((a, d) => a + (d.count || 1), 0);
    return s.days.reduce((a, d) => a + d.mean * (d.count || 1), 0) / n;
  });
  const labels = withData.length > 1 ? ` (${withData.map((s) => s.label).join('/')})` : '';
  const value = withUnit(avgs.map((a) => fmt(a, digits)).join('/'), unit);
  return `${title} from ${range.from} to ${range.to}: ${plural(buckets, resolution)} with data, ${mode === 'bar' ? 'daily average' : 'average'} ${value}${labels}.`;
}

/** A dependency-free SVG chart of daily statistics; loaded lazily with the Health page. */
export default function SeriesChart({ title, unit, series, mode, from, to, digits = 1, resolution = 'day' }: SeriesChartProps) {
  const [hover, setHover] = useState<number | null>(null);
  const nDays = Math.max(1, dayIndex(from, to) + 1);

  const { yMin, yMax, ticks } = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series)
      for (const d of s.days) {
        lo = Math.min(lo, mode === 'bar' ? 0 : d.min);
        hi = Math.max(hi, mode === 'bar' ? d.sum : d.max);
      }
    if (!Number.isFinite(lo)) return { yMin: 0, yMax: 1, ticks: [0, 1] };
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    const yMin = mode === 'bar' ? 0 : lo - pad;
    const yMax = hi + pad;
    return { yMin, yMax, ticks: niceTicks(yMin, yMax) };
  }, [series, mode]);

  const x = (i: number) => PAD.l + ((i + 0.5) / nDays) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - PAD.t - PAD.b);
  const barW = Math.max(1, ((W - PAD.l - PAD.r) / nDays) * 0.7);

  const onMove = (e: MouseEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * W;
    const i = Math.floor(((px - PAD.l) / (W - PAD.l - PAD.r)) * nDays);
    setHover(i >= 0 && i < nDays ? i : null);
  };

  const hoverDate = hover === null ? null : new Date(Date.parse(`${from}T00:00:00Z`) + hover * 86_400_000).toISOString().slice(0, 10);
  const hoverRows = hoverDate ? series.map((s) => ({ s, d: s.days.find((d) => d.date === hoverDate) })) : [];

  const xLabels = nDays <= 1 ? [0] : [0, Math.floor((nDays - 1) / 2), nDays - 1];
  const description = describeSeries(title, unit, series, mode, { from, to }, digits, resolution);
  const dateOpts = { year: from.slice(0, 4) !== to.slice(0, 4), month: resolution === 'month' };

  return (
    <figure className="relative">
      {/* The description is the picture's name only: a caption would name the figure too and be read again. */}
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-auto w-full select-none"
        role="img"
        aria-label={description}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
        data-testid="series-chart"
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} style={{ stroke: 'var(--color-stone-200)' }} strokeWidth="1" />
            <text x={PAD.l - 6} y={y(t) + 4} textAnchor="end" fontSize="11" style={{ fill: 'var(--color-stone-600)' }}>
              {fmt(t, t >= 100 ? 0 : digits)}
            </text>
          </g>
        ))}
        {xLabels.map((i) => (
          <text
            key={i}
            x={x(i)}
            y={H - 8}
            textAnchor={i === 0 ? 'start' : i === nDays - 1 ? 'end' : 'middle'}
            fontSize="11"
            style={{ fill: 'var(--color-stone-600)' }}
          >
            {shortDate(new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10), { year: dateOpts.year, month: nDays > 400 })}
          </text>
        ))}
        {series.map((s, si) => {
          const pts = s.days
            .map((d) => ({ i: dayIndex(from, d.date), d }))
            .filter((p) => p.i >= 0 && p.i < nDays)
            .sort((a, b) => a.i - b.i);
          if (mode === 'bar') {
            return (
              <g key={s.label}>
                {pts.map(({ i, d }) => (
                  <rect
                    key={i}
                    x={x(i) - barW / 2}
                    y={y(d.sum)}
                    width={barW}
                    height={Math.max(0, y(0) - y(d.sum))}
                    rx={1.5}
                    style={{ fill: s.color }}
                    opacity={hover === i ? 1 : 0.85}
                  />
                ))}
              </g>
            );
          }
          const band =
            pts.length > 1
              ? `M${pts.map((p) => `${x(p.i)},${y(p.d.max)}`).join('L')}L${pts
                  .slice()
                  .reverse()
                  .map((p) => `${x(p.i)},${y(p.d.min)}`)
                  .join('L')}Z`
              : '';
          const line = pts.map((p, k) => `${k ? 'L' : 'M'}${x(p.i)},${y(p.d.mean)}`).join('');
          return (
            <g key={s.label}>
              {band && <path d={band} style={{ fill: s.color }} opacity={0.12 + 0.02 * si} />}
              <path d={line} fill="none" style={{ stroke: s.color }} strokeWidth="2" strokeLinejoin="round" />
              {pts.length <= 62 && pts.map((p) => <circle key={p.i} cx={x(p.i)} cy={y(p.d.mean)} r={hover === p.i ? 4 : 2.5} style={{ fill: s.color }} />)}
            </g>
          );
        })}
        {hover !== null && <line x1={x(hover)} x2={x(hover)} y1={PAD.t} y2={H - PAD.b} style={{ stroke: 'var(--color-stone-400)' }} strokeDasharray="3 3" />}
      </svg>
      {hoverDate && hoverRows.some((r) => r.d) && (
        <div className="pointer-events-none absolute right-2 top-2 rounded-lg border border-stone-200 bg-white/95 px-3 py-2 text-xs shadow">
          <p className="font-medium text-stone-800">{shortDate(hoverDate, dateOpts)}</p>
          {hoverRows.map(({ s, d }) =>
            d ? (
              <p key={s.label} className="tabular-nums text-stone-600">
                <span className="mr-1 inline-block h-2 w-2 rounded-full" style={{ background: s.color }} />
                {s.label}: {mode === 'bar' ? fmt(d.sum, 0) : `${fmt(d.mean, digits)} (${fmt(d.min, digits)}–${fmt(d.max, digits)})`}
                {unit ? ` ${unit}` : ''}
              </p>
            ) : null,
          )}
        </div>
      )}
    </figure>
  );
}
