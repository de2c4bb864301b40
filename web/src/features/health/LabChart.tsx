import { useMemo, useState } from 'react';
import { fmt, type LabPoint } from './health-api';
import { plural } from './plural';

const W = 640;
const H = 220;
const PAD = { l: 48, r: 16, t: 14, b: 28 };

const OUT = new Set(['high', 'low', 'abnormal']);

/** The result's date as the lab wrote it (`day`), else the instant's date. */
const dayOf = (p: LabPoint | undefined) => (p ? (p.day ?? p.date.slice(0, 10)) : '');

/** One lab test over time: points on a time axis, the reference range as a band, out-of-range points in red. */
export default function LabChart({ name, unit, points, range }: { name: string; unit: string; points: LabPoint[]; range?: { low?: number; high?: number } }) {
  const [hover, setHover] = useState<number | null>(null);
  const shown = points.filter((p) => p.unit === unit);
  const { t0, t1, yMin, yMax } = useMemo(() => {
    const ts = shown.map((p) => Date.parse(p.date));
    const vs = shown.map((p) => p.value).concat(range?.low ?? [], range?.high ?? []);
    let lo = Math.min(...vs);
    let hi = Math.max(...vs);
    const pad = (hi - lo) * 0.12 || Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
    const a = Math.min(...ts);
    const b = Math.max(...ts);
    const span = b - a || 86_400_000 * 30;
    return { t0: a - span * 0.05, t1: b + span * 0.05, yMin: lo, yMax: hi };
  }, [shown, range]);
  const x = (t: number) => PAD.l + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - PAD.t - PAD.b);
  const ticks = [yMin, (yMin + yMax) / 2, yMax].map((v) => Number(v.toPrecision(3)));
  const bandLo = range?.low ?? yMin;
  const bandHi = range?.high ?? yMax;
  const out = shown.filter((p) => p.flag && OUT.has(p.flag)).length;
  const label = `${name} in ${unit}: ${plural(shown.length, 'result')} from ${dayOf(shown[0])} to ${dayOf(shown.at(-1))}${range ? `, reference range ${range.low ?? ''}–${range.high ?? ''} ${unit}` : ''}, ${out} outside the range.`;
  const year = (t: number) => new Date(t).toISOString().slice(0, 10);
  const h = hover === null ? null : shown[hover];

  return (
    <figure className="relative">
      {/* The description is the picture's name only: a caption would name the figure too and be read again. */}
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-label={label} data-testid="lab-chart">
        {range && (range.low !== undefined || range.high !== undefined) && (
          <rect
            data-testid="reference-band"
            x={PAD.l}
            width={W - PAD.l - PAD.r}
            y={y(bandHi)}
            height={Math.max(1, y(bandLo) - y(bandHi))}
            fill="#14b8a6"
            opacity={0.14}
          />
        )}
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} stroke="#e7e5e4" />
            <text x={PAD.l - 6} y={y(t) + 4} textAnchor="end" fontSize="11" fill="#78716c">
              {fmt(t, 2)}
            </text>
          </g>
        ))}
        <text x={PAD.l} y={H - 8} fontSize="11" fill="#78716c">
          {year(t0)}
        </text>
        <text x={W - PAD.r} y={H - 8} textAnchor="end" fontSize="11" fill="#78716c">
          {year(t1)}
        </text>
        <path d={shown.map((p, i) => `${i ? 'L' : 'M'}${x(Date.parse(p.date))},${y(p.value)}`).join('')} fill="none" stroke="#0f766e" strokeWidth="2" />
        {shown.map((p, i) => {
          const bad = p.flag && OUT.has(p.flag);
          return (
            <circle
              key={p.itemId}
              data-testid={bad ? 'point-out-of-range' : 'point'}
              cx={x(Date.parse(p.date))}
              cy={y(p.value)}
              r={hover === i ? 6 : 4.5}
              fill={bad ? '#b91c1c' : '#0f766e'}
              stroke="white"
              strokeWidth="1.5"
              onMouseEnter={() => setHover(i)}
              onMouseLeave={() => setHover(null)}
            >
              <title>{`${dayOf(p)}: ${p.comparator ?? ''}${fmt(p.value, 2)} ${p.unit}${p.flag ? ` (${p.flag})` : ''}`}</title>
            </circle>
          );
        })}
      </svg>
      {h && (
        <div className="pointer-events-none absolute right-2 top-2 rounded-lg border border-stone-200 bg-white/95 px-3 py-2 text-xs shadow">
          {dayOf(h)}: <span className="font-semibold">{fmt(h.value, 2)}</span> {h.unit} {h.flag && h.flag !== 'normal' ? `(${h.flag})` : ''}
        </div>
      )}
    </figure>
  );
}
