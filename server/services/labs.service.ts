import { badRequest, notFound } from '../errors.js';
import type { Item, ItemsService } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { convert, labGroup, roundFor, ucumOf, unitsFor, type LabGroup } from './health/lab-units.js';
import { flagOfRange, isLabItem, labResult, type LabResult } from './health/observations.js';
import type { LabPoint, LabSummary, LabTrend } from '../../contract/index.js';

/** Lab records read per request: a lifetime of results for one person is a few thousand. */
const MAX_LAB_ITEMS = 10_000;

export type { LabPoint };

/** A result with a number: the only kind that converts, charts and trends. */
type NumericResult = LabResult & { value: number };
const numeric = (rs: LabResult[]): NumericResult[] => rs.filter((r): r is NumericResult => r.value !== undefined);

/** Preferred display unit per conversion family ('glucose' covers the mg/dL <-> mmol/L analytes). */
export type UnitPreference = (group: LabGroup) => Promise<string | undefined> | string | undefined;

/**
 * Lab trends and the lab list. Results of one analyte are matched across sources and LOINC
 * variants (see health/lab-units.ts), converted to one unit where a conversion exists, and
 * flagged from the source's interpretation or, failing that, the reference range.
 */
export class LabsService {
  constructor(private readonly items: ItemsService) {}

  async #results(session: SessionContext, types?: string[]): Promise<LabResult[]> {
    const items: Item[] = types
      ? await this.items.recent(session, { types, limit: MAX_LAB_ITEMS })
      : await this.items.recent(session, { tags: ['laboratory'], limit: MAX_LAB_ITEMS });
    return items.filter((i) => isLabItem(i, !types)).flatMap((i) => labResult(i) ?? []);
  }

  async list(session: SessionContext, preferred: UnitPreference = () => undefined): Promise<LabSummary[]> {
    const byGroup = new Map<string, { group: LabGroup; results: LabResult[] }>();
    for (const r of await this.#results(session)) {
      const group = labGroup(r.code, r.name);
      const entry = byGroup.get(group.code) ?? { group, results: [] };
      entry.results.push(r);
      byGroup.set(group.code, entry);
    }
    const out: LabSummary[] = [];
    for (const { group, results } of byGroup.values()) {
      const numbers = numeric(results);
      const unit = await this.#unitFor(group, numbers, await preferred(group));
      // Results in words ("Negative") sit in the same timeline as the numbers, in the same order.
      const entries: Array<LabPoint | TextEntry> = [...toPoints(group, numbers, unit), ...toTextEntries(results)].sort(byDate);
      const latest = entries.at(-1)!;
      const prev = entries.at(-2);
      const summary: LabSummary = {
        code: group.code,
        name: group.name === group.code ? results[0]!.name : group.name,
        panel: group.panel,
        unit,
        count: entries.length,
        // Its own unit: a result sent without one (or in one that does not convert) is not in `unit`.
        latest:
          'text' in latest
            ? { text: latest.text, unit: '', date: latest.date, ...(latest.flag ? { flag: latest.flag } : {}) }
            : {
                value: latest.value,
                ...(latest.comparator ? { comparator: latest.comparator } : {}),
                unit: latest.unit,
                date: latest.date,
                ...(latest.flag ? { flag: latest.flag } : {}),
              },
      };
      // Only between two measured values: a bound ("<40") or words say nothing about the direction.
      if (prev && !('text' in latest) && !('text' in prev) && !latest.comparator && !prev.comparator && prev.unit === latest.unit) {
        const d = latest.value - prev.value;
        summary.trend = Math.abs(d) <= Math.abs(prev.value) * 0.02 ? 'flat' : d > 0 ? 'up' : 'down';
      }
      out.push(summary);
    }
    return out.sort((a, b) => a.panel.localeCompare(b.panel) || a.name.localeCompare(b.name));
  }

  /**
   * The latest result of each analyte in a period, in its preferred unit with its range: the
   * "recent results" of a patient summary.
   */
  async latest(
    session: SessionContext,
    q: { from?: string; to?: string },
    preferred: UnitPreference = () => undefined,
  ): Promise<Array<LabPoint & { code: string; name: string; panel: string }>> {
    const byGroup = new Map<string, { group: LabGroup; results: NumericResult[] }>();
    // Numbers only: a summary's results are quantities (results in words are in the lab list).
    for (const r of numeric(await this.#results(session))) {
      // Both inclusive, on the date the lab wrote.
      if ((q.from && r.day < q.from) || (q.to && r.day > q.to)) continue;
      const group = labGroup(r.code, r.name);
      const entry = byGroup.get(group.code) ?? { group, results: [] };
      entry.results.push(r);
      byGroup.set(group.code, entry);
    }
    const out: Array<LabPoint & { code: string; name: string; panel: string }> = [];
    for (const { group, results } of byGroup.values()) {
      const unit = await this.#unitFor(group, results, await preferred(group));
      const last = toPoints(group, results, unit).at(-1)!;
      out.push({ ...last, code: group.code, name: group.name === group.code ? results[0]!.name : group.name, panel: group.panel });
    }
    return out.sort((a, b) => a.panel.localeCompare(b.panel) || a.name.localeCompare(b.name));
  }

  async trend(session: SessionContext, code: string, unit: string | undefined, preferred: UnitPreference = () => undefined): Promise<LabTrend> {
    const group = labGroup(code);
    // A chart of numbers: a test with results only in words has none to show.
    const results = numeric(await this.#results(session, group.codes));
    if (results.length === 0) throw notFound('Lab result');
    const wanted = unit === undefined ? undefined : (ucumOf(unit) ?? '');
    const choices = unitsFor(group);
    // Only a unit the values convert to, or one they came in: never a label over values in another.
    if (wanted !== undefined && !choices.includes(wanted) && !results.some((r) => ucumOf(r.unit) === wanted)) {
      const can = choices.length ? choices : [...new Set(results.flatMap((r) => ucumOf(r.unit) ?? []))];
      throw badRequest(`${group.name} can be shown in ${can.join(' or ')}.`, 'unsupported_unit');
    }
    const target = wanted ?? (await this.#unitFor(group, results, await preferred(group)));
    const points = toPoints(group, results, target);
    const last = [...points].reverse().find((p) => p.low !== undefined || p.high !== undefined);
    const name = group.name === group.code ? results[0]!.name : group.name;
    const trend: LabTrend = { code: group.code, name, unit: target, units: choices.length ? choices : [target], panel: group.panel, points };
    if (last) trend.referenceRange = { ...(last.low !== undefined ? { low: last.low } : {}), ...(last.high !== undefined ? { high: last.high } : {}) };
    return trend;
  }

  /** The preferred unit when the group converts to it, else the unit most results came in. */
  async #unitFor(group: LabGroup, results: NumericResult[], preferred: string | undefined): Promise<string> {
    if (preferred && unitsFor(group).includes(preferred)) return preferred;
    const counts = new Map<string, number>();
    for (const r of results) {
      const u = ucumOf(r.unit) ?? '';
      counts.set(u, (counts.get(u) ?? 0) + 1);
    }
    const usual = unitsFor(group)[0];
    return [...counts].sort((a, b) => b[1] - a[1] || Number(b[0] === usual) - Number(a[0] === usual))[0]?.[0] ?? '';
  }
}

/** A result in words, placed among the points by date. */
interface TextEntry {
  date: string;
  itemId: string;
  text: string;
  flag?: LabPoint['flag'];
}

const byDate = (a: { date: string; itemId: string }, b: { date: string; itemId: string }) =>
  Date.parse(a.date) - Date.parse(b.date) || a.itemId.localeCompare(b.itemId);

/** Results in words, flagged only from the source's interpretation (there is no value to range-check). */
function toTextEntries(results: LabResult[]): TextEntry[] {
  return results.flatMap((r) =>
    r.value === undefined && r.text !== undefined
      ? [{ date: r.date, itemId: r.itemId, text: r.text, ...(r.interpretation ? { flag: r.interpretation } : {}) }]
      : [],
  );
}

/** Results as points in `unit` (those that do not convert keep their own), oldest first. */
function toPoints(group: LabGroup, results: NumericResult[], unit: string): LabPoint[] {
  return results
    .map((r): LabPoint => {
      const from = ucumOf(r.unit);
      const v = convert(group, r.value, from, unit);
      const u = v === undefined ? (from ?? '') : unit;
      // Values stay as the lab reported them; only a converted one is rounded, as a report in
      // that unit would print it. The flag is decided on the values before any rounding.
      const shown = (x: number, xFrom: string | undefined) => (v !== undefined && xFrom !== unit ? roundFor(unit, x) : x);
      const rangeFrom = ucumOf(r.rangeUnit) ?? from;
      const scale = (x: number | undefined) => (x === undefined ? undefined : v === undefined ? x : convert(group, x, rangeFrom, unit));
      const value = v ?? r.value;
      const low = scale(r.low);
      const high = scale(r.high);
      const p: LabPoint = { date: r.date, day: r.day, value: shown(value, from), unit: u, itemId: r.itemId, source: r.source };
      if (r.comparator) p.comparator = r.comparator;
      if (low !== undefined) p.low = shown(low, rangeFrom);
      if (high !== undefined) p.high = shown(high, rangeFrom);
      const flag = r.interpretation ?? flagOfRange(value, low, high, r.comparator);
      if (flag) p.flag = flag;
      return p;
    })
    .sort(byDate);
}
