/**
 * Compact text for a health time series in a prompt. Raw samples (a heart rate every few
 * minutes) would swamp any context window; per-day stats, folded into weeks or months when the
 * range is long, keep the numbers a model needs to answer "how has X changed".
 */
import { pooledStats } from '../../integrations/series/day-chunk.js';
import { findMetric } from './health-metrics.js';

export interface DayStat {
  /** YYYY-MM-DD, the user's local day. */
  date: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

export interface SeriesInput {
  label: string;
  unit?: string;
  days: DayStat[];
  /**
   * Daily totals matter (steps), not daily means. Defaults to the METRICS entry whose name,
   * label or synonym matches `label`.
   */
  cumulative?: boolean;
}

interface Bucket {
  label: string;
  days: number;
  count: number;
  min: number;
  minDate: string;
  max: number;
  maxDate: string;
  /** Sum of mean*count, for a reading-weighted mean. */
  weighted: number;
  sum: number;
}

const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Lines before the breakdown: what, overall, first/last and trend, breakdown title. */
const HEADER_LINES = 4;
/** Relative change over the period below which a series is called stable. */
const STABLE_FRACTION = 0.03;

function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function mondayOf(date: string): string {
  const n = dayNumber(date);
  const dow = (new Date(n * DAY_MS).getUTCDay() + 6) % 7;
  return isoOf(n - dow);
}

/** Drops unusable days and merges duplicates (two devices can report the same day). */
function clean(days: DayStat[]): DayStat[] {
  const byDate = new Map<string, DayStat>();
  for (const d of days) {
    if (!ISO_DAY.test(d.date) || Number.isNaN(dayNumber(d.date))) continue;
    if (![d.count, d.min, d.max, d.mean, d.sum].every(Number.isFinite) || d.count <= 0) continue;
    const prev = byDate.get(d.date);
    byDate.set(d.date, prev ? pooledStats(prev, d) : { ...d });
  }
  return [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** Decimals the source data itself carries (72 bpm: 0; 72.4 kg: 1; SpO2 0.97: 2), capped. */
function observedDecimals(values: number[]): number {
  let decimals = 0;
  for (const v of values) {
    const cap = Math.abs(v) < 1 && v !== 0 ? 3 : 2;
    let k = 0;
    while (k < cap) {
      const scaled = v * 10 ** k;
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, Math.abs(scaled))) break;
      k++;
    }
    decimals = Math.max(decimals, k);
    if (decimals >= 3) break;
  }
  return decimals;
}

function formatter(decimals: number): (x: number) => string {
  return (x) => {
    const s = x.toFixed(decimals);
    return /^-0(?:\.0+)?$/.test(s) ? s.slice(1) : s;
  };
}

function bucketOf(label: string, days: DayStat[]): Bucket {
  const b: Bucket = { label, days: 0, count: 0, min: Infinity, minDate: '', max: -Infinity, maxDate: '', weighted: 0, sum: 0 };
  for (const d of days) {
    b.days += 1;
    b.count += d.count;
    b.weighted += d.mean * d.count;
    b.sum += d.sum;
    if (d.min < b.min) {
      b.min = d.min;
      b.minDate = d.date;
    }
    if (d.max > b.max) {
      b.max = d.max;
      b.maxDate = d.date;
    }
  }
  return b;
}

function groupBy(days: DayStat[], key: (d: DayStat) => string, label: (k: string, ds: DayStat[]) => string): Bucket[] {
  const groups = new Map<string, DayStat[]>();
  for (const d of days) {
    const k = key(d);
    const list = groups.get(k);
    if (list) list.push(d);
    else groups.set(k, [d]);
  }
  return [...groups.entries()].map(([k, ds]) => bucketOf(label(k, ds), ds));
}

/** Least-squares line through the daily values: steadier than comparing two single days. */
function fittedEnds(points: Array<[number, number]>): { start: number; end: number } | null {
  if (points.length < 3) return null;
  const n = points.length;
  const x0 = points[0]![0];
  const x1 = points[n - 1]![0];
  if (x1 - x0 < 2) return null;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { start: my + slope * (x0 - mx), end: my + slope * (x1 - mx) };
}

/**
 * Summarises a series in at most `maxLines` lines. Steps and other cumulative metrics are
 * described by daily totals; everything else by reading-weighted means with min and max.
 */
export function summarizeSeries(series: SeriesInput, maxLines = 40): string {
  const limit = Math.max(1, Math.floor(maxLines));
  const unit = series.unit ? ` (${series.unit})` : '';
  const days = clean(series.days);
  if (days.length === 0) return `${series.label}${unit}: no data in this period.`;

  const cumulative = series.cumulative ?? findMetric(series.label)?.cumulative ?? false;
  const value = (d: DayStat) => (cumulative ? d.sum : d.mean);
  const raw = cumulative ? days.map((d) => d.sum) : days.flatMap((d) => [d.min, d.max]);
  const decimals = observedDecimals(raw);
  const fmt = formatter(decimals);
  // Means of whole numbers still read best whole, unless the values are small (0-20).
  const typical = Math.abs(value(days[Math.floor(days.length / 2)]!));
  const fmtMean = formatter(decimals === 0 && typical < 20 ? 1 : decimals);

  const first = days[0]!;
  const last = days[days.length - 1]!;
  const all = bucketOf('all', days);
  const lines: string[] = [];

  lines.push(
    `${series.label}${unit}: ${first.date} to ${last.date}, ${days.length} day${days.length === 1 ? '' : 's'} with data` +
      (cumulative ? '.' : `, ${all.count} reading${all.count === 1 ? '' : 's'}.`),
  );

  if (cumulative) {
    let lo = first;
    let hi = first;
    for (const d of days) {
      if (d.sum < lo.sum) lo = d;
      if (d.sum > hi.sum) hi = d;
    }
    lines.push(
      `Daily total: average ${fmtMean(all.sum / days.length)}, lowest ${fmt(lo.sum)} on ${lo.date}, ` +
        `highest ${fmt(hi.sum)} on ${hi.date}; ${fmt(all.sum)} in all.`,
    );
  } else {
    lines.push(`Overall: mean ${fmtMean(all.weighted / all.count)}, lowest ${fmt(all.min)} on ${all.minDate}, ` + `highest ${fmt(all.max)} on ${all.maxDate}.`);
  }

  const fit = fittedEnds(days.map((d) => [dayNumber(d.date), value(d)]));
  let trend: string;
  if (!fit) {
    trend = 'Trend: too few days to tell.';
  } else {
    const base = Math.abs(cumulative ? all.sum / days.length : all.weighted / all.count);
    const change = fit.end - fit.start;
    const direction = base === 0 || Math.abs(change) / base < STABLE_FRACTION ? 'stable' : change > 0 ? 'rising' : 'falling';
    trend = `Trend: ${direction} (fitted line ${fmtMean(fit.start)} to ${fmtMean(fit.end)}).`;
  }
  const what = cumulative ? 'total' : 'mean';
  lines.push(`First day ${first.date}: ${what} ${fmtMean(value(first))}; last day ${last.date}: ${what} ${fmtMean(value(last))}. ${trend}`);

  const rows = limit - HEADER_LINES;
  if (rows >= 1) {
    const describe = (b: Bucket, single: boolean): string => {
      if (cumulative) {
        return single
          ? `${b.label}: ${fmt(b.sum)}`
          : `${b.label}: total ${fmt(b.sum)}, ${fmtMean(b.sum / b.days)}/day over ${b.days} day${b.days === 1 ? '' : 's'}`;
      }
      const mean = fmtMean(b.weighted / b.count);
      if (b.count === 1) return `${b.label}: ${mean}`;
      return `${b.label}: mean ${mean}, ${fmt(b.min)}-${fmt(b.max)}, n=${b.count}${single ? '' : `, ${b.days} day${b.days === 1 ? '' : 's'}`}`;
    };

    let title: string;
    let out: string[];
    if (days.length <= rows) {
      title = cumulative ? 'Per day (total):' : 'Per day (mean, min-max, readings):';
      out = days.map((d) => describe(bucketOf(d.date, [d]), true));
    } else {
      const weeks = groupBy(
        days,
        (d) => mondayOf(d.date),
        (k) => `week of ${k}`,
      );
      if (weeks.length <= rows) {
        title = 'Per week (Monday start):';
        out = weeks.map((b) => describe(b, false));
      } else {
        const months = groupBy(
          days,
          (d) => d.date.slice(0, 7),
          (k) => k,
        );
        title = 'Per month:';
        out = months.map((b) => describe(b, false));
        if (out.length > rows) {
          // The most recent months are the likeliest to matter; say what was left out.
          const keep = rows - 1;
          const omitted = out.length - keep;
          out = [`(${omitted} earlier month${omitted === 1 ? '' : 's'} omitted)`, ...(keep > 0 ? out.slice(-keep) : [])];
        }
      }
    }
    lines.push(title, ...out);
  }
  return lines.slice(0, limit).join('\n');
}
