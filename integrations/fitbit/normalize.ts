/**
 * Parsers for each Fitbit archive file family (see `../shared/data/fitbit/FINDINGS.md`), each
 * with its own time-zone rule:
 *
 * - classic intraday JSON (`heart_rate-*.json`, `steps-*.json`): `MM/DD/YY HH:MM:SS` in UTC;
 * - sleep and weight JSON, `exercise-*.json` without an offset: naive local time, read in the
 *   user's IANA zone (UTC when none was given);
 * - new CSVs: ISO instants with `Z`, converted to the user's zone for `localDate`;
 * - daily values (resting heart rate): a date label, never shifted (but stamped at local midnight).
 *
 * A person who imported before in another zone (or none: UTC) has that import's samples stored
 * at other instants or on other days; each parser also builds its rows in those earlier zones
 * and takes back what differs ({@link emitZoned}), so importing again in the right zone corrects
 * the data instead of adding a shifted copy.
 *
 * The same measurement can appear twice in one archive (JSON and CSV of one stream); the
 * {@link Dedupe} ledger records what the preferred copy covered so the other copy is skipped.
 */
import { fitbitSleepStages } from '../series/sleep-stages.js';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { QuantitySample, RecordInput } from '../types.js';
import { isRealDate, isRealDateTime } from '../calendar.js';
import { isoUtc, localDateAtOffset, localDateOf, parseFitbitUsDate, parseNaiveIso, parseZonedIso, zonedToUtc, zoneOffsetMs } from './time.js';

/** HealthKit identifiers, so Fitbit lands in the same series as Apple Health. */
export const HK = {
  heartRate: 'HKQuantityTypeIdentifierHeartRate',
  steps: 'HKQuantityTypeIdentifierStepCount',
  restingHeartRate: 'HKQuantityTypeIdentifierRestingHeartRate',
  bodyMass: 'HKQuantityTypeIdentifierBodyMass',
  sleep: 'HKCategoryTypeIdentifierSleepAnalysis',
} as const;

/**
 * Units used for each type: UCUM as the Apple Health importer writes it (Apple's "count/min" is
 * "/min" there), so a Fitbit day and an Apple day of one metric are in the same unit.
 */
export const UNITS: Record<string, string> = {
  [HK.heartRate]: '/min',
  [HK.steps]: 'count',
  [HK.restingHeartRate]: '/min',
  [HK.bodyMass]: 'kg',
  [HK.sleep]: 'min',
};

/** The device name used when a file names none. */
export const DEFAULT_SOURCE = 'Fitbit';

const LB_TO_KG = 0.45359237;
const MINUTE = 60_000;

/** Where parsed samples and records go; may return a promise to apply backpressure. */
export interface NormalizeOutput {
  sample(s: QuantitySample): void | Promise<void>;
  record(r: RecordInput): void | Promise<void>;
  /**
   * A sample an earlier import of the same row stored in another zone (see
   * {@link NormalizeContext.previousZones}): to be removed where it is stored, never counted.
   */
  retract?(s: QuantitySample): void | Promise<void>;
}

/** Settings shared by every parser of one import. */
export interface NormalizeContext {
  /** IANA zone for naive local timestamps and for local dates of UTC instants. */
  timeZone: string;
  /**
   * Zones earlier imports of this person's archives were read in (other than `timeZone`): what a
   * row gave there and gives otherwise now is sent to {@link NormalizeOutput.retract}.
   */
  previousZones?: readonly string[];
  /**
   * Unit of the classic weight JSON, which does not say, when the person gave one; otherwise each
   * file's BMI tells it where it can (see {@link weightFileUnit}), else pounds (FINDINGS §1.2).
   */
  weightUnit?: 'lb' | 'kg';
  /**
   * The unit the BMI of the archive's other weight files proved (all that prove one agree), for
   * a file whose own BMI tells nothing: one person's account has one unit setting.
   */
  archiveWeightUnit?: 'lb' | 'kg';
  /** Told of each weight file read as pounds only because nothing said its unit. */
  poundsAssumed(): void;
  /** Told of each weight file read in {@link archiveWeightUnit} because its own BMI told nothing. */
  weightUnitFromArchive?(): void;
  dedupe: Dedupe;
  warn(message: string): void;
  /** Counts a row that was not imported, so the result can say data was left behind. */
  skip(reason: SkipReason): void;
}

/**
 * Why a row was not imported: its date or time is missing, unreadable or does not exist
 * (`date`); it is not an object at all, such as `null` (`row`); its value is missing, not a
 * number or not plausible (`value`). Fitbit's own markers of an empty minute or day (0 steps,
 * a resting heart rate of 0) are not counted: they are not data.
 */
export type SkipReason = 'date' | 'row' | 'value';

/** A data file whose JSON is not a list of rows (nor the Web API's object around one). */
export class UnreadableFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableFileError';
  }
}

/** Sorted, merged [start, end] intervals with a point lookup. */
class IntervalSet {
  private raw: Array<[number, number]> = [];
  private merged: Array<[number, number]> | null = null;
  add(start: number, end: number): void {
    this.raw.push([start, end]);
    this.merged = null;
  }
  has(t: number): boolean {
    if (!this.merged) {
      const sorted = [...this.raw].sort((a, b) => a[0] - b[0]);
      const out: Array<[number, number]> = [];
      for (const iv of sorted) {
        const last = out[out.length - 1];
        if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
        else out.push([iv[0], iv[1]]);
      }
      this.merged = out;
    }
    const m = this.merged;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const iv = m[mid]!;
      if (t < iv[0]) hi = mid - 1;
      else if (t > iv[1]) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/**
 * What the preferred copy of each stream covered, so the fallback copy adds only what is new.
 *
 * - Intraday types (heart rate, steps): the span [first, last] instant of each CSV file. JSON
 *   samples inside a span are dropped (FINDINGS §3.3: prefer CSV). Spans, not sample keys,
 *   keep memory small for years of 5-second data.
 * - Daily-ish types (resting heart rate, weight): the local dates the CSV had.
 * - Sleep: the local start minute of each JSON session; `UserSleeps_*.csv` rows that match are
 *   the same night.
 */
export class Dedupe {
  private spans = new Map<string, IntervalSet>();
  private dates = new Map<string, Set<string>>();
  private sleepStarts = new Set<string>();
  /** How many fallback samples were skipped, per type. */
  readonly skipped: Record<string, number> = {};

  /** Record that the preferred copy of `type` covers [start, end]. */
  coverSpan(type: string, start: number, end: number): void {
    let set = this.spans.get(type);
    if (!set) this.spans.set(type, (set = new IntervalSet()));
    set.add(start, end);
  }
  /** Record that the preferred copy of `type` has data on local date `date`. */
  coverDate(type: string, date: string): void {
    let set = this.dates.get(type);
    if (!set) this.dates.set(type, (set = new Set()));
    set.add(date);
  }
  /** Record a sleep session by its naive local start ("YYYY-MM-DDTHH:MM"). */
  coverSleep(localStartMinute: string): void {
    this.sleepStarts.add(localStartMinute);
  }
  /** True (and counted) when a fallback sample at `t` is already covered. */
  spanCovered(type: string, t: number): boolean {
    const hit = this.spans.get(type)?.has(t) ?? false;
    if (hit) this.skipped[type] = (this.skipped[type] ?? 0) + 1;
    return hit;
  }
  /** True (and counted) when a fallback sample on `date` is already covered. */
  dateCovered(type: string, date: string): boolean {
    const hit = this.dates.get(type)?.has(date) ?? false;
    if (hit) this.skipped[type] = (this.skipped[type] ?? 0) + 1;
    return hit;
  }
  /** True (and counted) when a sleep session starting at that local minute was seen. */
  sleepCovered(localStartMinute: string): boolean {
    const hit = this.sleepStarts.has(localStartMinute);
    if (hit) this.skipped[HK.sleep] = (this.skipped[HK.sleep] ?? 0) + 1;
    return hit;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function ymd(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** "7 h 5 min", "45 min". */
export function formatMinutes(min: number): string {
  const m = Math.round(min);
  if (m < 60) return `${m} min`;
  return m % 60 === 0 ? `${Math.floor(m / 60)} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function hhmm(naiveOrIso: string): string {
  const m = /T(\d{2}:\d{2})/.exec(naiveOrIso);
  return m ? m[1]! : naiveOrIso;
}

function versionOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

/** A file's JSON body as an array: exports write bare arrays, the Web API wraps them. */
function asArray(parsed: unknown, wrapperKey: string): unknown[] {
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object') {
    const inner = (parsed as Record<string, unknown>)[wrapperKey];
    if (Array.isArray(inner)) return inner;
  }
  // Whatever it holds was not imported, so it is reported like a file that does not parse.
  throw new UnreadableFileError('it is not a list of entries');
}

/** An element of a file's array as an object; anything else (null, a number, a list) is counted. */
function rowOf(row: unknown, ctx: NormalizeContext): Record<string, unknown> | null {
  if (row !== null && typeof row === 'object' && !Array.isArray(row)) return row as Record<string, unknown>;
  ctx.skip('row');
  return null;
}

/** A nested object, or an empty one when the field is missing or not an object. */
function objectAt(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

async function emit(out: NormalizeOutput, s: QuantitySample): Promise<void> {
  const p = out.sample(s);
  if (p) await p;
}

/**
 * Emits the sample one row gives in the import's zone (unless `skipped`: the other copy of the
 * stream had it) and retracts what the same row gave in each earlier zone, where that is another
 * instant or another day: that copy was stored by an import in the wrong zone and is not this
 * one's, which would otherwise sit next to it. Per row, so nothing grows with the file; a zone
 * whose build is the same (an instant on a date label) costs one comparison.
 */
async function emitZoned(out: NormalizeOutput, ctx: NormalizeContext, build: (timeZone: string) => QuantitySample, skipped = false): Promise<void> {
  const cur = build(ctx.timeZone);
  if (!skipped) await emit(out, cur);
  const zones = ctx.previousZones;
  if (!out.retract || !zones || zones.length === 0) return;
  for (const zone of zones) {
    if (zone === ctx.timeZone) continue;
    const old = build(zone);
    if (old.startMs === cur.startMs && old.endMs === cur.endMs && old.localDate === cur.localDate) continue;
    const p = out.retract(old);
    if (p) await p;
  }
}

/** Local date and instant of a Fitbit US-style UTC timestamp. */
function usUtc(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const p = parseFitbitUsDate(s);
  if (!p) return null;
  return Date.UTC(p[0], p[1] - 1, p[2], p[3], p[4], p[5]);
}

/** A date written "MM/DD/YY" or "YYYY-MM-DD", as YYYY-MM-DD; null when it does not exist. */
function dateLabel(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const us = parseFitbitUsDate(s);
  if (us) return ymd(us[0], us[1], us[2]);
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(s.trim());
  const date = iso ? `${iso[1]}-${iso[2]}-${iso[3]}` : null;
  return date && isRealDate(date) ? date : null;
}

function localMidnight(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedToUtc(y, m, d, 0, 0, 0, 0, timeZone);
}

// ---------------------------------------------------------------------------------------------
// Classic JSON

/**
 * `heart_rate-YYYY-MM-DD.json`: UTC instants in a file bounded by the user's local day, so the
 * file's own date is the local date of its samples (exact even when the user travelled or gave
 * no zone). A sample far outside that day falls back to the zone rule.
 */
export async function parseHeartRateJson(text: string, fileDate: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  // A file named for a day that does not exist (Date.parse would roll it over) gives no local day.
  const dayStart = isRealDate(fileDate) ? Date.parse(`${fileDate}T00:00:00Z`) : NaN;
  for (const row of asArray(JSON.parse(text), 'activities-heart-intraday')) {
    const r = rowOf(row, ctx);
    if (!r) continue;
    const t = usUtc(r.dateTime);
    const bpm = num(objectAt(r.value).bpm);
    if (t === null) {
      ctx.skip('date');
      continue;
    }
    if (bpm === null || bpm <= 0) {
      ctx.skip('value');
      continue;
    }
    const covered = ctx.dedupe.spanCovered(HK.heartRate, t);
    // Zones span UTC-12..UTC+14: the local day [D 00:00, D+1 00:00) lies within these bounds.
    const inFileDay = t >= dayStart - 14 * 3_600_000 && t < dayStart + 36 * 3_600_000;
    await emitZoned(
      out,
      ctx,
      (tz) => ({
        type: HK.heartRate,
        unit: UNITS[HK.heartRate]!,
        startMs: t,
        endMs: t,
        localDate: inFileDay ? fileDate : localDateOf(t, tz),
        value: bpm,
        sourceName: DEFAULT_SOURCE,
      }),
      covered,
    );
  }
}

/** `steps-YYYY-MM-DD.json`: per-minute UTC counts, `value` a string, zero minutes skipped. */
export async function parseStepsJson(text: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for (const row of asArray(JSON.parse(text), 'activities-steps-intraday')) {
    const r = rowOf(row, ctx);
    if (!r) continue;
    const t = usUtc(r.dateTime);
    const steps = num(r.value);
    if (steps === 0) continue;
    if (t === null) {
      ctx.skip('date');
      continue;
    }
    if (steps === null || steps < 0) {
      ctx.skip('value');
      continue;
    }
    const covered = ctx.dedupe.spanCovered(HK.steps, t);
    await emitZoned(
      out,
      ctx,
      (tz) => ({
        type: HK.steps,
        unit: UNITS[HK.steps]!,
        startMs: t,
        endMs: t + MINUTE,
        localDate: localDateOf(t, tz),
        value: steps,
        sourceName: DEFAULT_SOURCE,
      }),
      covered,
    );
  }
}

/**
 * `resting_heart_rate-YYYY-MM-DD.json`: one value per local day, keyed by its date label;
 * empty days (`date: null`, `value: 0`) are dropped.
 */
export async function parseRestingHeartRateJson(text: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for (const row of asArray(JSON.parse(text), 'activities-heart')) {
    const r = rowOf(row, ctx);
    if (!r) continue;
    const v = objectAt(r.value);
    const bpm = num(v.value);
    if (bpm === 0) continue;
    const date = dateLabel(v.date);
    if (!date) {
      ctx.skip('date');
      continue;
    }
    if (bpm === null || bpm < 0) {
      ctx.skip('value');
      continue;
    }
    const covered = ctx.dedupe.dateCovered(HK.restingHeartRate, date);
    await emitZoned(out, ctx, (tz) => restingHeartRate(date, bpm, DEFAULT_SOURCE, tz), covered);
  }
}

/** Whether a weight (kg) and the BMI beside it imply a height (sqrt(kg / BMI)) of 1.2 to 2.3 m. */
function plausibleHeight(kg: number, bmi: number): boolean {
  const metres = Math.sqrt(kg / bmi);
  return metres >= 1.2 && metres <= 2.3;
}

/**
 * The unit of a weight file's entries, which do not say: the one under which the BMI of every
 * entry that has one implies a plausible height, when exactly one does. A tall person's
 * kilograms read as pounds still give a plausible height: such a file, and one with no BMI,
 * tells nothing (null).
 */
export function weightFileUnit(rows: readonly unknown[]): 'lb' | 'kg' | null {
  let kgFits = true;
  let lbFits = true;
  let measured = 0;
  for (const row of rows) {
    if (row === null || typeof row !== 'object') continue;
    const w = num((row as { weight?: unknown }).weight);
    const bmi = num((row as { bmi?: unknown }).bmi);
    if (w === null || w <= 0 || bmi === null || bmi <= 0) continue;
    measured += 1;
    kgFits &&= plausibleHeight(w, bmi);
    lbFits &&= plausibleHeight(w * LB_TO_KG, bmi);
  }
  if (measured === 0 || kgFits === lbFits) return null;
  return kgFits ? 'kg' : 'lb';
}

/**
 * The unit a `weight-YYYY-MM-DD.json` file's BMI proves ({@link weightFileUnit}), or null where it
 * proves none or the file does not parse (reading it for its data reports that).
 */
export function weightJsonUnit(text: string): 'lb' | 'kg' | null {
  try {
    return weightFileUnit(asArray(JSON.parse(text), 'weight'));
  } catch {
    return null;
  }
}

/**
 * `weight-YYYY-MM-DD.json`: naive local `date` + `time`; the weight carries no unit, so the
 * context's `weightUnit` decides, else the file's BMI ({@link weightFileUnit}), else the unit the
 * archive's other files proved, else pounds. `source: "Aria"` names the scale.
 */
export async function parseWeightJson(text: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  const rows = asArray(JSON.parse(text), 'weight');
  const own = ctx.weightUnit ?? weightFileUnit(rows);
  const told = own ?? ctx.archiveWeightUnit;
  const unit = told ?? 'lb';
  let read = 0;
  for (const row of rows) {
    const r = rowOf(row, ctx);
    if (!r) continue;
    const w = num(r.weight);
    const date = dateLabel(r.date);
    const [y, mo, d] = (date ?? '').split('-').map(Number) as [number, number, number];
    // No time means midnight; a time that is there must exist (25:00 would move to the next day).
    const timeText = typeof r.time === 'string' ? r.time.trim() : '';
    const tm = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(timeText);
    const hms = [Number(tm?.[1] ?? 0), Number(tm?.[2] ?? 0), Number(tm?.[3] ?? 0)] as const;
    if (!date || (timeText !== '' && (!tm || !isRealDateTime(y, mo, d, ...hms)))) {
      ctx.skip('date');
      continue;
    }
    if (w === null || w <= 0) {
      ctx.skip('value');
      continue;
    }
    const covered = ctx.dedupe.dateCovered(HK.bodyMass, date);
    if (!covered) read += 1;
    const kg = unit === 'lb' ? w * LB_TO_KG : w;
    const src = typeof r.source === 'string' && r.source.trim() && !/^(api|web)$/i.test(r.source.trim()) ? r.source.trim() : DEFAULT_SOURCE;
    await emitZoned(
      out,
      ctx,
      (tz) => {
        const t = zonedToUtc(y, mo, d, ...hms, 0, tz);
        return { type: HK.bodyMass, unit: UNITS[HK.bodyMass]!, startMs: t, endMs: t, localDate: date, value: round(kg, 3), sourceName: src };
      },
      covered,
    );
  }
  if (read > 0 && !told) ctx.poundsAssumed();
  else if (read > 0 && !own) ctx.weightUnitFromArchive?.();
}

interface FitbitSleep {
  logId?: unknown;
  dateOfSleep?: unknown;
  startTime?: unknown;
  endTime?: unknown;
  minutesAsleep?: unknown;
  minutesAwake?: unknown;
  timeInBed?: unknown;
  efficiency?: unknown;
  type?: unknown;
  isMainSleep?: unknown;
  mainSleep?: unknown;
  levels?: { summary?: Record<string, { minutes?: unknown; count?: unknown }> };
}

function sleepRecord(
  s: FitbitSleep,
  startMs: number,
  endMs: number,
  localStart: string,
  localEnd: string,
  minutesAsleep: number,
  original: unknown,
): RecordInput {
  const main = s.isMainSleep === true || s.mainSleep === true;
  const awake = num(s.minutesAwake);
  const eff = num(s.efficiency);
  const summary = s.levels?.summary ?? {};
  const stageOrder = s.type === 'stages' ? ['deep', 'light', 'rem', 'wake'] : ['asleep', 'restless', 'awake'];
  const stages = stageOrder
    .map((k) => [k, num(summary[k]?.minutes)] as const)
    .filter((kv): kv is readonly [string, number] => kv[1] !== null && kv[1] > 0)
    .map(([k, v]) => `${k} ${formatMinutes(v)}`);
  const parts = [
    `Slept ${formatMinutes(minutesAsleep)} from ${localStart.replace('T', ' ').slice(0, 16)} to ${localEnd.replace('T', ' ').slice(0, 16)} (local time)${main ? ', main sleep' : ', nap or secondary sleep'}.`,
  ];
  if (awake !== null) parts.push(`Awake ${formatMinutes(awake)}.`);
  if (eff !== null) parts.push(`Efficiency ${eff}%.`);
  if (stages.length) parts.push(`Stages: ${stages.join(', ')}.`);
  parts.push('Recorded by Fitbit.');
  const id = s.logId !== undefined && s.logId !== null ? String(s.logId) : `${localStart}`;
  return {
    kind: 'record',
    source: 'fitbit',
    type: HK.sleep,
    externalId: `fitbit:sleep/${id}`,
    // The zone the archive is read in decides the night's instants and local times: imported again
    // in another zone, the record is another version, so the stored night moves with its samples.
    externalVersion: versionOf([original, startMs, endMs, localStart, localEnd]),
    occurredAt: isoUtc(startMs),
    title: `Sleep ${formatMinutes(minutesAsleep)} (${hhmm(localStart)}–${hhmm(localEnd)})`,
    text: parts.join(' '),
    tags: ['fitbit', 'sleep'],
    data: { original, normalized: { startMs, endMs, localStart, localEnd, minutesAsleep, mainSleep: main, localDate: localStart.slice(0, 10) } },
  };
}

/**
 * `sleep-YYYY-MM-DD.json`: sessions with naive local start and end. Each becomes a sample of
 * minutes asleep (on the start's local date, read from the string itself) and a record.
 */
export async function parseSleepJson(text: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for (const row of asArray(JSON.parse(text), 'sleep')) {
    const s = rowOf(row, ctx) as FitbitSleep | null;
    if (!s) continue;
    const a = typeof s.startTime === 'string' ? parseNaiveIso(s.startTime) : null;
    const b = typeof s.endTime === 'string' ? parseNaiveIso(s.endTime) : null;
    const asleep = num(s.minutesAsleep);
    if (!a || !b || typeof s.startTime !== 'string' || typeof s.endTime !== 'string') {
      ctx.skip('date');
      continue;
    }
    if (asleep === null || asleep < 0) {
      ctx.skip('value');
      continue;
    }
    const startMs = zonedToUtc(...a, ctx.timeZone);
    const endMs = zonedToUtc(...b, ctx.timeZone);
    const localStart = s.startTime.trim();
    ctx.dedupe.coverSleep(localStart.slice(0, 16));
    const localDate = localStart.slice(0, 10);
    const night = (type: string, unit: string, value: number) => (tz: string) => ({
      type,
      unit,
      startMs: zonedToUtc(...a, tz),
      endMs: zonedToUtc(...b, tz),
      localDate,
      value,
      sourceName: DEFAULT_SOURCE,
    });
    await emitZoned(out, ctx, night(HK.sleep, UNITS[HK.sleep]!, asleep));
    // Minutes per stage of the night (levels.summary), each stage its own series.
    for (const [type, minutes] of fitbitSleepStages(s.levels?.summary)) await emitZoned(out, ctx, night(type, 'min', minutes));
    const rp = out.record(sleepRecord(s, startMs, endMs, localStart, s.endTime.trim(), asleep, row));
    if (rp) await rp;
  }
}

const WORKOUT_TYPES: Array<[RegExp, string]> = [
  [/\b(run|running|treadmill|jog)/i, 'HKWorkoutActivityTypeRunning'],
  [/\b(walk|walking)/i, 'HKWorkoutActivityTypeWalking'],
  [/\b(hike|hiking)/i, 'HKWorkoutActivityTypeHiking'],
  [/\b(bike|biking|cycl|spinning)/i, 'HKWorkoutActivityTypeCycling'],
  [/\bswim/i, 'HKWorkoutActivityTypeSwimming'],
  [/\byoga/i, 'HKWorkoutActivityTypeYoga'],
  [/\b(weight|strength)/i, 'HKWorkoutActivityTypeTraditionalStrengthTraining'],
  [/\belliptical/i, 'HKWorkoutActivityTypeElliptical'],
  [/\b(interval|hiit)/i, 'HKWorkoutActivityTypeHighIntensityIntervalTraining'],
  [/\b(tennis)/i, 'HKWorkoutActivityTypeTennis'],
  [/\b(dance|dancing)/i, 'HKWorkoutActivityTypeDance'],
  [/\b(row|rowing)/i, 'HKWorkoutActivityTypeRowing'],
];

/** HealthKit workout type for a Fitbit activity name, `HKWorkoutActivityTypeOther` if unknown. */
export function workoutType(activityName: string): string {
  for (const [re, t] of WORKOUT_TYPES) if (re.test(activityName)) return t;
  return 'HKWorkoutActivityTypeOther';
}

/**
 * `exercise-N.json`: logged and auto-detected activities. `startTime` is UTC ("01/06/23
 * 01:08:57"); `originalStartTime`, when present, carries the local offset and wins. Records only:
 * the activity's steps are already in the steps stream and must not be counted twice.
 */
export async function parseExerciseJson(text: string, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for (const row of asArray(JSON.parse(text), 'activities')) {
    const a = rowOf(row, ctx);
    if (!a) continue;
    const name = typeof a.activityName === 'string' ? a.activityName : typeof a.name === 'string' ? a.name : 'Exercise';
    let startMs: number | null = null;
    let localDate: string | null = null;
    let localTime: string | null = null;
    const orig = typeof a.originalStartTime === 'string' ? parseZonedIso(a.originalStartTime) : null;
    if (orig) {
      startMs = orig.ms;
      const off = orig.offsetMinutes ?? 0;
      localDate = localDateAtOffset(orig.ms, off);
      localTime = isoUtc(orig.ms + off * MINUTE).slice(11, 16);
    } else {
      startMs = usUtc(a.startTime);
      if (startMs !== null) {
        localDate = localDateOf(startMs, ctx.timeZone);
        localTime = localIso(startMs, ctx.timeZone).slice(11, 16);
      }
    }
    if (startMs === null || !localDate) {
      ctx.skip('date');
      continue;
    }
    const durationMin = (num(a.activeDuration) ?? num(a.duration) ?? 0) / MINUTE;
    const steps = num(a.steps);
    const calories = num(a.calories);
    const avgHr = num(a.averageHeartRate);
    const distance = num(a.distance);
    const distanceUnit = typeof a.distanceUnit === 'string' ? a.distanceUnit : '';
    const source =
      a.source && typeof a.source === 'object' && typeof (a.source as { name?: unknown }).name === 'string'
        ? (a.source as { name: string }).name
        : DEFAULT_SOURCE;
    const facts: string[] = [];
    if (durationMin > 0) facts.push(`lasted ${formatMinutes(durationMin)}`);
    if (steps !== null && steps > 0) facts.push(`${Math.round(steps)} steps`);
    if (distance !== null && distance > 0) facts.push(`distance ${round(distance, 2)}${distanceUnit ? ` ${distanceUnit}` : ''}`);
    if (calories !== null && calories > 0) facts.push(`${Math.round(calories)} kcal`);
    if (avgHr !== null && avgHr > 0) facts.push(`average heart rate ${Math.round(avgHr)} bpm`);
    const id = a.logId !== undefined && a.logId !== null ? String(a.logId) : `${startMs}-${name}`;
    const rec: RecordInput = {
      kind: 'record',
      source: 'fitbit',
      type: workoutType(name),
      externalId: `fitbit:exercise/${id}`,
      externalVersion: versionOf(row),
      occurredAt: isoUtc(startMs),
      title: durationMin > 0 ? `${name}, ${formatMinutes(durationMin)}` : name,
      text: `${name} on ${localDate} at ${localTime ?? '?'} (local time)${facts.length ? `: ${facts.join(', ')}` : ''}. Recorded by ${source}${typeof a.logType === 'string' ? ` (${a.logType.replace(/_/g, ' ')})` : ''}.`,
      tags: ['fitbit', 'exercise'],
      data: {
        original: row,
        normalized: { startMs, endMs: startMs + durationMin * MINUTE, localDate, durationMin, steps, calories, averageHeartRate: avgHr, sourceName: source },
      },
    };
    const rp = out.record(rec);
    if (rp) await rp;
  }
}

// ---------------------------------------------------------------------------------------------
// New CSVs

/** Split one CSV line, honouring double quotes. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

async function* csvRows(stream: Readable): AsyncGenerator<{ header: string[]; cells: string[] }> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let header: string[] | null = null;
  try {
    for await (const raw of rl) {
      const line = raw.replace(/^\uFEFF/, '');
      if (line.trim() === '') continue;
      const cells = splitCsvLine(line).map((c) => c.trim());
      if (!header) {
        header = cells.map((c) => c.toLowerCase());
        continue;
      }
      yield { header, cells };
    }
  } finally {
    rl.close();
  }
}

/** A CSV timestamp as read: an instant (`Z` or an offset) or naive local parts. */
type CsvTime = { ms: number; offsetMinutes: number | null } | { naive: NonNullable<ReturnType<typeof parseNaiveIso>> };

function csvTime(s: string): CsvTime | null {
  const z = parseZonedIso(s);
  if (z) return z;
  const n = parseNaiveIso(s);
  return n ? { naive: n } : null;
}

/** The instant and local date of a CSV timestamp in `timeZone`. */
function csvInstant(t: CsvTime, timeZone: string): { ms: number; localDate: string } {
  if ('naive' in t) {
    const n = t.naive;
    return { ms: zonedToUtc(...n, timeZone), localDate: ymd(n[0], n[1], n[2]) };
  }
  return { ms: t.ms, localDate: t.offsetMinutes === null ? localDateOf(t.ms, timeZone) : localDateAtOffset(t.ms, t.offsetMinutes) };
}

interface CsvColumns {
  ts: number;
  value: number;
  source: number;
}

function columns(header: string[]): CsvColumns {
  const ts = Math.max(
    0,
    header.findIndex((h) => h === 'timestamp' || h === 'time' || h === 'date'),
  );
  const source = header.findIndex((h) => h === 'data source' || h === 'data_source' || h === 'source');
  const value = header.findIndex((_h, i) => i !== ts && i !== source);
  return { ts, value, source };
}

/**
 * `heart_rate_YYYY-MM-DD.csv` / `steps_YYYY-MM-DD.csv`: `timestamp,<value>[,data source]`.
 * Each device keeps its own `sourceName` so two devices are never summed together. The span
 * the file covers is recorded so the JSON copy of the same stream can be skipped.
 */
export async function parseIntradayCsv(stream: Readable, kind: 'heart_rate' | 'steps', ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  const type = kind === 'heart_rate' ? HK.heartRate : HK.steps;
  let first = Infinity;
  let last = -Infinity;
  try {
    for await (const { header, cells } of csvRows(stream)) {
      const col = columns(header);
      const time = csvTime(cells[col.ts] ?? '');
      const value = num(cells[col.value]);
      if (!time) {
        ctx.skip('date');
        continue;
      }
      if (value === null || value < 0) {
        ctx.skip('value');
        continue;
      }
      const ms = csvInstant(time, ctx.timeZone).ms;
      first = Math.min(first, ms);
      last = Math.max(last, ms);
      if (value <= 0) continue;
      const src = col.source >= 0 && cells[col.source] ? cells[col.source]! : DEFAULT_SOURCE;
      await emitZoned(out, ctx, (tz) => {
        const at = csvInstant(time, tz);
        return { type, unit: UNITS[type]!, startMs: at.ms, endMs: kind === 'steps' ? at.ms + MINUTE : at.ms, localDate: at.localDate, value, sourceName: src };
      });
    }
  } finally {
    if (first <= last) ctx.dedupe.coverSpan(type, first, kind === 'steps' ? last + MINUTE - 1 : last);
  }
}

/**
 * `daily_resting_heart_rate.csv`: its `T00:00:00Z` is a date label, not an instant (FINDINGS
 * §3.1), so the date is kept as written and the sample sits at local midnight.
 */
export async function parseRestingHeartRateCsv(stream: Readable, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for await (const { header, cells } of csvRows(stream)) {
    const col = columns(header);
    const date = /^(\d{4}-\d{2}-\d{2})/.exec(cells[col.ts] ?? '')?.[1];
    const bpm = num(cells[col.value]);
    if (bpm === 0) continue;
    if (!date || !isRealDate(date)) {
      ctx.skip('date');
      continue;
    }
    if (bpm === null || bpm < 0) {
      ctx.skip('value');
      continue;
    }
    ctx.dedupe.coverDate(HK.restingHeartRate, date);
    const src = col.source >= 0 && cells[col.source] ? cells[col.source]! : DEFAULT_SOURCE;
    await emitZoned(out, ctx, (tz) => restingHeartRate(date, bpm, src, tz));
  }
}

/** `weight.csv`: `timestamp,weight grams,data source`; the header names the unit. */
export async function parseWeightCsv(stream: Readable, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for await (const { header, cells } of csvRows(stream)) {
    const col = columns(header);
    const unitName = header[col.value] ?? '';
    const factor = /gram/.test(unitName) && !/kilogram/.test(unitName) ? 0.001 : /pound|\blbs?\b/.test(unitName) ? LB_TO_KG : 1;
    const time = csvTime(cells[col.ts] ?? '');
    const w = num(cells[col.value]);
    if (!time) {
      ctx.skip('date');
      continue;
    }
    if (w === null || w <= 0) {
      ctx.skip('value');
      continue;
    }
    ctx.dedupe.coverDate(HK.bodyMass, csvInstant(time, ctx.timeZone).localDate);
    const src = col.source >= 0 && cells[col.source] ? cells[col.source]! : DEFAULT_SOURCE;
    await emitZoned(out, ctx, (tz) => {
      const at = csvInstant(time, tz);
      return {
        type: HK.bodyMass,
        unit: UNITS[HK.bodyMass]!,
        startMs: at.ms,
        endMs: at.ms,
        localDate: at.localDate,
        value: round(w * factor, 3),
        sourceName: src,
      };
    });
  }
}

/** "+10:00", "-0500", "+10", "36000" (seconds), "PT10H" → minutes east of UTC, or null. */
export function parseUtcOffset(s: string | undefined): number | null {
  if (!s) return null;
  const t = s.trim();
  let m = /^([+-])?(\d{1,2}):?(\d{2})?$/.exec(t);
  if (m && (t.includes(':') || t.length <= 3 || /^[+-]\d{4}$/.test(t))) {
    const sign = m[1] === '-' ? -1 : 1;
    return sign * (Number(m[2]) * 60 + Number(m[3] ?? 0));
  }
  m = /^(-?\d+)s?$/.exec(t);
  if (m) return Math.round(Number(m[1]) / 60);
  return null;
}

/**
 * `UserSleeps_*.csv` (`sleep_start`, `sleep_end` in UTC, `start_utc_offset`, `minutes_asleep`):
 * column names confirmed by only one or two public parsers, so read defensively. A session the
 * JSON already gave (same local start minute) is skipped: the JSON copy is richer.
 */
export async function parseUserSleepsCsv(stream: Readable, ctx: NormalizeContext, out: NormalizeOutput): Promise<void> {
  for await (const { header, cells } of csvRows(stream)) {
    const get = (name: string): string | undefined => {
      const i = header.indexOf(name);
      return i >= 0 ? cells[i] : undefined;
    };
    const startRaw = get('sleep_start');
    const endRaw = get('sleep_end');
    const asleep = num(get('minutes_asleep'));
    if (!startRaw || !endRaw) {
      ctx.skip('date');
      continue;
    }
    if (asleep === null || asleep < 0) {
      ctx.skip('value');
      continue;
    }
    const startZ = parseZonedIso(startRaw);
    const endZ = parseZonedIso(endRaw);
    const sN = parseNaiveIso(startRaw);
    const eN = parseNaiveIso(endRaw);
    // Without a zone suffix the column is still UTC per its documentation.
    const startMs = startZ?.ms ?? (sN ? Date.UTC(sN[0], sN[1] - 1, sN[2], sN[3], sN[4], sN[5], sN[6]) : null);
    const endMs = endZ?.ms ?? (eN ? Date.UTC(eN[0], eN[1] - 1, eN[2], eN[3], eN[4], eN[5], eN[6]) : null);
    if (startMs === null || endMs === null) {
      ctx.skip('date');
      continue;
    }
    const startOff = parseUtcOffset(get('start_utc_offset'));
    const endOff = parseUtcOffset(get('end_utc_offset')) ?? startOff;
    const localStartIn = (tz: string) => (startOff !== null ? isoUtc(startMs + startOff * MINUTE).slice(0, 19) : localIso(startMs, tz));
    const localStart = localStartIn(ctx.timeZone);
    const localEnd = endOff !== null ? isoUtc(endMs + endOff * MINUTE).slice(0, 19) : localIso(endMs, ctx.timeZone);
    const covered = ctx.dedupe.sleepCovered(localStart.slice(0, 16));
    const night = (tz: string) => ({
      type: HK.sleep,
      unit: UNITS[HK.sleep]!,
      startMs,
      endMs,
      localDate: localStartIn(tz).slice(0, 10),
      value: asleep,
      sourceName: DEFAULT_SOURCE,
    });
    await emitZoned(out, ctx, night, covered);
    if (covered) continue;
    const original = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    // Without an id, the night is named by a start that no import zone moves, or each zone would store it again.
    const id = get('sleep_id') ?? get('log_id') ?? get('sleep_log_entry_id') ?? localStartIn('UTC');
    const rec = sleepRecord(
      { logId: id, minutesAwake: get('minutes_awake'), mainSleep: get('is_main_sleep') === 'true' || get('main_sleep') === 'true' },
      startMs,
      endMs,
      localStart,
      localEnd,
      asleep,
      original,
    );
    const rp = out.record(rec);
    if (rp) await rp;
  }
}

function localIso(ms: number, tz: string): string {
  return isoUtc(ms + zoneOffsetMs(ms, tz)).slice(0, 19);
}

/** Resting heart rate is one value per local day, stamped at that day's local midnight. */
function restingHeartRate(date: string, bpm: number, sourceName: string, timeZone: string): QuantitySample {
  const t = localMidnight(date, timeZone);
  return { type: HK.restingHeartRate, unit: UNITS[HK.restingHeartRate]!, startMs: t, endMs: t, localDate: date, value: round(bpm, 2), sourceName };
}
