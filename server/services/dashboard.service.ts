import { convertStats } from '../../integrations/series/units.js';
import type { Dashboard, DashboardCard, DashboardPoint, Resolution } from '../../contract/index.js';
import type { ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { crossConversion, leadOf, lineDays, mergeDays, readDays, type CodeRead } from './health/metric-lines.js';
import { ALL_METRIC_CODES, displayFactor, METRICS, type MetricDef } from './health/metrics.js';
import type { Preferences, PreferencesService } from './preferences.service.js';
import type { SeriesDay, SeriesService } from './series.service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);

/**
 * Daily points up to three months, weekly up to half a year, monthly beyond: monthly points come
 * from sealed roll-ups, so years cost a few hundred small decryptions, not thousands.
 */
export function resolutionFor(from: string, to: string): Resolution {
  const span = (dayMs(to) - dayMs(from)) / DAY + 1;
  return span <= 92 ? 'day' : span <= 184 ? 'week' : 'month';
}

function bucketOf(date: string, r: Resolution): string {
  if (r === 'day') return date;
  if (r === 'month') return `${date.slice(0, 7)}-01`;
  const ms = dayMs(date);
  const dow = (new Date(ms).getUTCDay() + 6) % 7; // Monday = 0
  return iso(ms - dow * DAY);
}

/** Daily stats rolled up into weeks or months; a mean is weighted by the samples behind it. */
export function rollUp(days: SeriesDay[], r: Resolution): DashboardPoint[] {
  const out: DashboardPoint[] = [];
  let cur: DashboardPoint | undefined;
  for (const d of days) {
    if (d.count === 0) continue;
    const b = bucketOf(d.date, r);
    if (!cur || cur.date !== b) {
      cur = { date: b, days: 0, count: 0, min: Infinity, max: -Infinity, mean: 0, sum: 0 };
      out.push(cur);
    }
    cur.mean = (cur.mean * cur.count + d.mean * d.count) / (cur.count + d.count);
    cur.days += 1;
    cur.count += d.count;
    cur.min = Math.min(cur.min, d.min);
    cur.max = Math.max(cur.max, d.max);
    cur.sum += d.sum;
  }
  return out;
}

/** The last day of a month given by its first day; setUTCFullYear, as Date.UTC reads years 0–99 as 1900–1999. */
function monthEnd(month: string): string {
  const d = new Date(0);
  d.setUTCFullYear(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0);
  return iso(d.getTime());
}

const laterOf = (a: string, b: string) => (a > b ? a : b);
const earlierOf = (a: string, b: string) => (a < b ? a : b);

/**
 * The health dashboard: a card for every metric the vault has data for, in the person's chosen
 * order and units. A card with no range asked opens on the last 30 days that have data up to
 * today (an Apple Health export whose last sample is months old still shows its data), and long ranges
 * come back as weekly or monthly points rolled up from the sealed daily stats. Each line reads
 * every code its metric's sources write and merges them per day (`lineDays`).
 */
export class DashboardService {
  constructor(
    private readonly series: SeriesService,
    private readonly preferences: PreferencesService,
    private readonly items: ItemsService,
  ) {}

  async get(session: SessionContext, query: { from?: string; to?: string } = {}, now = new Date()): Promise<Dashboard> {
    // Only `from`: the range runs to today (the UTC date), or is `from` alone when that is later.
    // Each card's own last day with data, the default without a range, can lie before `from`.
    const q = query.from && !query.to ? { from: query.from, to: laterOf(query.from, iso(now.getTime())) } : query;
    // No date anywhere on Earth (UTC+14 is the latest) is past this: a reading dated after it is a
    // source's error (an EHR's 2999-12-31), and a card opening there would hide every real one.
    const today = iso(now.getTime() + 14 * HOUR);
    const prefs = await this.preferences.get(session);
    const cover = new Map((await this.series.coverage(session, ALL_METRIC_CODES)).map((c) => [c.type, c]));
    const present: Present[] = [];
    for (const m of METRICS) {
      const spans = m.series.flatMap((s) => s.codes.flatMap((c) => (cover.get(c) ? [cover.get(c)!] : [])));
      if (!spans.length) continue;
      const byToday: string[] = [];
      for (const s of spans) {
        const d = s.last <= today ? s.last : await this.series.lastDayBy(session, s.type, s.first, today);
        if (d) byToday.push(d);
      }
      present.push(
        presence(
          m,
          spans.map((s) => s.first).sort()[0]!,
          byToday.sort().at(-1),
          spans
            .map((s) => s.last)
            .sort()
            .at(-1)!,
          today,
        ),
      );
    }
    // Workouts are records, not series: the newest one says whether and until when there are any.
    const [newest] = await this.items.recent(session, { tags: ['workout'], limit: 1 });
    if (newest?.occurredAt) {
      const last = workoutDay(newest);
      // One that started by now started on or before today wherever it was.
      const [past] = last > today ? await this.items.recent(session, { tags: ['workout'], to: now, limit: 1 }) : [newest];
      const byToday = past?.occurredAt ? workoutDay(past) : undefined;
      present.push(presence(WORKOUTS, byToday ?? last, byToday, last, today)); // first: not scanned for
    }
    const order = prefs.cards ?? [...METRICS.map((m) => m.key), WORKOUTS.key];
    const rank = (key: string) =>
      order.includes(key) ? order.indexOf(key) : order.length + (key === WORKOUTS.key ? METRICS.length : METRICS.findIndex((m) => m.key === key));
    present.sort((a, b) => rank(a.metric.key) - rank(b.metric.key));
    const hidden = new Set(prefs.hidden ?? []);
    const cards: DashboardCard[] = [];
    for (const p of present.filter((x) => !hidden.has(x.metric.key))) {
      // No range asked (`q` has a `to` whenever it has a `from`): the card's own 30 days.
      const range = { ...q, to: q.to ?? earlierOf(p.last, today) };
      cards.push(
        p.metric === WORKOUTS ? await this.#workouts(session, p.last, range) : await this.#card(session, p.metric, p.first, p.last, cover, prefs, range),
      );
    }
    return {
      available: present.map((p) => ({ key: p.metric.key, title: p.metric.title, first: p.first, last: p.last, ...(p.later ? { later: p.later } : {}) })),
      cards,
    };
  }

  /**
   * Workouts per day, week or month: how many (`count`) and their minutes (`sum`), from the
   * workout records in the range (each decrypted: a range of years with a workout a day reads
   * a few thousand small records).
   */
  async #workouts(session: SessionContext, last: string, q: { from?: string; to: string }): Promise<DashboardCard> {
    const { to } = q;
    const from = q.from ?? iso(dayMs(to) - 29 * DAY);
    const resolution = resolutionFor(from, to);
    const list = await this.items.recent(session, { tags: ['workout'], from: new Date(dayMs(from) - DAY), to: new Date(dayMs(to) + 2 * DAY), limit: 10_000 });
    const byDay = new Map<string, SeriesDay>();
    for (const w of list) {
      const date = workoutDay(w);
      if (date < from || date > to) continue;
      const min = typeof w.data?.durationMin === 'number' ? w.data.durationMin : 0;
      const d = byDay.get(date) ?? { date, count: 0, min: Infinity, max: -Infinity, mean: 0, sum: 0 };
      d.count += 1;
      d.sum += min;
      d.min = Math.min(d.min, min);
      d.max = Math.max(d.max, min);
      d.mean = d.sum / d.count;
      byDay.set(date, d);
    }
    const days = [...byDay.values()].sort((a, b) => a.date.localeCompare(b.date));
    return {
      key: WORKOUTS.key,
      title: WORKOUTS.title,
      stat: 'sum',
      unit: 'min',
      from,
      to,
      resolution,
      first: days[0]?.date ?? last,
      last,
      series: [{ label: 'Workouts', code: 'workout', points: rollUp(days, resolution) }],
    };
  }

  async #card(
    session: SessionContext,
    m: MetricDef,
    first: string,
    last: string,
    cover: Map<string, { first: string; last: string }>,
    prefs: Preferences,
    q: { from?: string; to: string },
  ): Promise<DashboardCard> {
    const { to } = q;
    const from = q.from ?? iso(dayMs(to) - 29 * DAY);
    const resolution = resolutionFor(from, to);
    let unit: string | null = null;
    const series: DashboardCard['series'] = [];
    for (const s of m.series) {
      const stored = s.codes.filter((c) => cover.has(c));
      if (!stored.length) continue;
      // Every code with data in the range, merged: sources write one metric under their own codes.
      const inRange = stored.filter((c) => cover.get(c)!.last >= from && cover.get(c)!.first <= to);
      const line =
        resolution === 'month'
          ? await this.#months(session, inRange, from, to, m.stat)
          : await lineDays(this.series, session, inRange, from, to, m.stat).then((l) => l && { ...l, points: rollUp(l.days, resolution) });
      // A line with nothing in the range is named by its code with the latest data.
      const code = line?.code ?? stored.sort((a, b) => cover.get(b)!.last.localeCompare(cover.get(a)!.last))[0]!;
      const conv = displayFactor(m.convert, line?.unit ?? null, m.convert ? (prefs.units as Record<string, string> | undefined)?.[m.convert] : undefined);
      const f = conv?.factor ?? 1;
      unit ??= conv?.unit ?? line?.unit ?? null;
      const points = line?.points ?? [];
      series.push({
        label: s.label,
        code,
        points: f === 1 ? points : points.map((p) => ({ ...p, min: p.min * f, max: p.max * f, mean: p.mean * f, sum: p.sum * f })),
      });
    }
    return { key: m.key, title: m.title, stat: m.stat, unit, from, to, resolution, first, last, series };
  }

  /**
   * One line's monthly points from every code: a month that one code alone has keeps its sealed
   * roll-up; months that several codes share are merged from their days (one read per code for
   * each run of such months), so a day held by two codes counts once and a daily total is never
   * the sum of two sources. The lead is the code with the latest day, as for daily points (two
   * codes in the latest month are told apart by that month's days). Undefined when no code has
   * data in the range.
   */
  async #months(session: SessionContext, codes: string[], from: string, to: string, stat: MetricDef['stat']): Promise<CodeRead<DashboardPoint> | undefined> {
    const reads: Array<CodeRead<DashboardPoint>> = [];
    for (const code of codes) {
      const x = await this.series.months(session, { type: code, from, to });
      if (x.months.length)
        reads.push({
          code,
          unit: x.unit,
          points: x.months.map(({ month, days, count, min, max, mean, sum }) => ({ date: month, days, count, min, max, mean, sum })),
        });
    }
    if (reads.length <= 1) return reads[0];
    const owners = new Map<string, string[]>();
    for (const r of reads) for (const p of r.points) owners.set(p.date, [...(owners.get(p.date) ?? []), r.code]);
    const shared = [...owners.keys()].filter((mo) => owners.get(mo)!.length > 1).sort();
    const runs: Array<Array<CodeRead<SeriesDay>>> = [];
    for (let i = 0; i < shared.length;) {
      let j = i;
      while (j + 1 < shared.length && shared[j + 1] === iso(dayMs(monthEnd(shared[j]!)) + DAY)) j++;
      const run = shared.slice(i, j + 1);
      const runCodes = codes.filter((c) => run.some((mo) => owners.get(mo)!.includes(c)));
      runs.push(await readDays(this.series, session, runCodes, laterOf(from, run[0]!), earlierOf(to, monthEnd(run.at(-1)!))));
      i = j + 1;
    }
    const lastMonth = [...owners.keys()].sort().at(-1)!;
    const lead = shared.at(-1) === lastMonth && runs.at(-1)!.length ? leadOf(runs.at(-1)!) : leadOf(reads);
    const out = new Map<string, DashboardPoint>();
    for (const r of reads) {
      const c = crossConversion(r.code, r.unit, lead);
      if (c) for (const p of r.points) if (owners.get(p.date)!.length === 1) out.set(p.date, convertStats(p, c));
    }
    for (const run of runs) for (const p of rollUp(mergeDays(run, stat, lead), 'month')) out.set(p.date, p);
    return { code: lead.code, unit: lead.unit, points: [...out.values()].sort((a, b) => a.date.localeCompare(b.date)) };
  }
}

/**
 * A metric with data: `last` is its last day on or before today (its last day at all when it has
 * none by then), `later` its last day when that is after today.
 */
interface Present {
  metric: MetricDef;
  first: string;
  last: string;
  later?: string;
}

function presence(metric: MetricDef, first: string, lastByToday: string | undefined, last: string, today: string): Present {
  return { metric, first, last: lastByToday ?? last, ...(last > today ? { later: last } : {}) };
}

const WORKOUTS: MetricDef = { key: 'workouts', title: 'Workouts', stat: 'sum', series: [] };

/** A workout's local day: Apple keeps the local start ("2018-02-01 07:46:59 -0800"); others give an instant. */
function workoutDay(w: { occurredAt: string | null; data?: Record<string, unknown> }): string {
  const local = (w.data?.attributes as { startDate?: unknown } | undefined)?.startDate;
  return typeof local === 'string' && /^\d{4}-\d{2}-\d{2}/.test(local) ? local.slice(0, 10) : (w.occurredAt ?? '').slice(0, 10);
}
