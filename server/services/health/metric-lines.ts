/**
 * A metric's line across the codes its sources write it under (Apple's HK identifier, LOINC from
 * FHIR and from hand entries), merged per day in one unit: the dashboard's cards and the patient
 * summary's vitals read every code, so one source's data never hides another's.
 */
import { pooledStats } from '../../../integrations/series/day-chunk.js';
import { convertStats, hasUnit, SAME_UNIT, type UnitConversion } from '../../../integrations/series/units.js';
import type { SessionContext } from '../keyring.js';
import { seriesConversion, type SeriesDay, type SeriesService } from '../series.service.js';
import type { MetricDef } from './metrics.js';

/** One code's data in a range: its days (or months), in the unit the series service answered. */
export interface CodeRead<P extends { date: string }> {
  code: string;
  unit: string | null;
  points: P[];
}

/** One line of a metric, every code merged: named by and in the unit of the code with the latest data. */
export interface LineDays {
  code: string;
  unit: string | null;
  days: SeriesDay[];
}

/**
 * The code whose data is latest (the first listed on a tie) among those with a unit, or among
 * all when none has one: it names the line and gives its unit. A reading without a unit must not
 * decide the unit of readings that have one.
 */
export function leadOf<P extends { date: string }>(reads: Array<CodeRead<P>>): CodeRead<P> {
  const withUnit = reads.filter((r) => hasUnit(r.unit));
  const candidates = withUnit.length ? withUnit : reads;
  let lead = candidates[0]!;
  for (const r of candidates) if (r.points.at(-1)!.date > lead.points.at(-1)!.date) lead = r;
  return lead;
}

/**
 * How a code's values read in the lead's unit, as the series service converts one code's days
 * (`seriesConversion`); either code may be the one that knows the substance (a meter's glucose in
 * mmol/L against a lab's mg/dL).
 */
export function crossConversion(code: string, unit: string | null, lead: { code: string; unit: string | null }): UnitConversion | undefined {
  // Data of unknown unit is never converted, nor read as if in the lead's unit.
  if (hasUnit(unit) !== hasUnit(lead.unit)) return undefined;
  if (!hasUnit(unit)) return SAME_UNIT;
  const from = unit ?? '';
  const to = lead.unit ?? '';
  return seriesConversion(code, from, to) ?? seriesConversion(lead.code, from, to);
}

/**
 * Several codes' days as one series in the lead's unit. A day of readings (`mean`) counts every
 * code's samples; a daily total (`sum`) is the one code with the largest total that day, as a
 * day's sources within one code are (integrations/series/day-chunk.ts `computeStats`): steps a
 * watch gave Apple Health and a FHIR export are one walk, not two. A code whose unit does not
 * convert is left out, never shown under a unit it is not in.
 */
export function mergeDays(reads: Array<CodeRead<SeriesDay>>, stat: MetricDef['stat'], lead: { code: string; unit: string | null }): SeriesDay[] {
  const byDate = new Map<string, SeriesDay>();
  for (const r of reads) {
    const c = crossConversion(r.code, r.unit, lead);
    if (!c) continue;
    for (const raw of r.points) {
      if (raw.count === 0) continue;
      const d = convertStats(raw, c);
      const prev = byDate.get(d.date);
      byDate.set(d.date, prev ? combineDays(prev, d, stat) : d);
    }
  }
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
}

function combineDays(a: SeriesDay, b: SeriesDay, stat: MetricDef['stat']): SeriesDay {
  if (stat === 'sum') return b.sum > a.sum ? b : a;
  return pooledStats(a, b);
}

export async function readDays(series: SeriesService, session: SessionContext, codes: string[], from: string, to: string): Promise<Array<CodeRead<SeriesDay>>> {
  const reads: Array<CodeRead<SeriesDay>> = [];
  for (const code of codes) {
    const r = await series.days(session, { type: code, from, to });
    if (r.days.length) reads.push({ code, unit: r.unit, points: r.days });
  }
  return reads;
}

/**
 * One line of a metric between two dates (both inclusive), from every code its sources write it
 * under (Apple's HKQuantityTypeIdentifierBodyMass, LOINC 29463-7 from FHIR and from hand
 * entries), merged per day: reading one code hid the others' data (a hand entry hid years of
 * an import). Undefined when no code has data in the range.
 */
export async function lineDays(
  series: SeriesService,
  session: SessionContext,
  codes: string[],
  from: string,
  to: string,
  stat: MetricDef['stat'],
): Promise<LineDays | undefined> {
  const reads = await readDays(series, session, codes, from, to);
  if (!reads.length) return undefined;
  const lead = leadOf(reads);
  return { code: lead.code, unit: lead.unit, days: mergeDays(reads, stat, lead) };
}
