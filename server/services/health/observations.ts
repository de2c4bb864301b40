/**
 * Reads what the FHIR transformer (integrations/fhir/transform.ts) stored in a record's `data`
 * for an Observation: one numeric result with its unit, reference range and interpretation.
 * Pure; the services decide which items to read.
 */
import { sourceDay } from './source-day.js';
import { MAX_MAGNITUDE } from '../../../integrations/series/day-chunk.js';
import type { Item } from '../items.service.js';

export type Flag = 'low' | 'high' | 'normal' | 'abnormal';

export interface LabResult {
  itemId: string;
  source: string;
  code: string;
  name: string;
  /** ISO instant (or date) of the result. */
  date: string;
  /** Its calendar date as the source wrote it (source-day.ts). */
  day: string;
  /** Absent exactly when `text` is set. */
  value?: number;
  /** A result in words ("Negative", "Cloudy"): a coded or text value, which has no number to chart. */
  text?: string;
  unit?: string;
  valueText?: string;
  low?: number;
  high?: number;
  rangeUnit?: string;
  /** "<0.5": the value is a bound, not a measurement. */
  comparator?: Comparator;
  /** From the source's interpretation, when it gave one. */
  interpretation?: Flag;
}

export type Comparator = '<' | '<=' | '>' | '>=';
const COMPARATORS = new Set<string>(['<', '<=', '>', '>=']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A number a result can hold: as the series importers do, nothing beyond ±1e15 (a glucose of 1e20 became the latest value and a rising trend). */
const num = (v: unknown) => (typeof v === 'number' && Math.abs(v) <= MAX_MAGNITUDE ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The transformer's readable interpretations, reduced to the four flags of the API. */
export function flagOfInterpretation(list: unknown): Flag | undefined {
  const words = Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  for (const w of words) {
    if (/low/.test(w)) return 'low';
    if (/high/.test(w)) return 'high';
  }
  if (words.some((w) => /abnormal|positive|detected|resistant/.test(w) && !/not detected/.test(w))) return 'abnormal';
  if (words.includes('normal') || words.includes('negative') || words.includes('not detected')) return 'normal';
  return undefined;
}

/** Flag from a value and its range, where the source gave none. */
export function flagOfRange(value: number, low: number | undefined, high: number | undefined, comparator?: Comparator): Flag | undefined {
  if (low === undefined && high === undefined) return undefined;
  // A bound ("<0.5") is out of range only when every value it allows is, and never "normal"
  // unless every value it allows is in range.
  if (comparator === '<' || comparator === '<=') {
    if (low !== undefined && (value < low || (comparator === '<' && value === low))) return 'low';
    return low === undefined && high !== undefined && value <= high ? 'normal' : undefined;
  }
  if (comparator === '>' || comparator === '>=') {
    if (high !== undefined && (value > high || (comparator === '>' && value === high))) return 'high';
    return high === undefined && low !== undefined && value >= low ? 'normal' : undefined;
  }
  if (low !== undefined && value < low) return 'low';
  if (high !== undefined && value > high) return 'high';
  return 'normal';
}

/**
 * Whether an item is a usable Observation; `labOnly` also asks for the laboratory category (the
 * lab list), while a trend looked up by code takes any Observation of that code (a meter's
 * glucose entered by hand).
 */
export function isLabItem(item: Item, labOnly = true): boolean {
  const d = item.data;
  if (!d || d.resourceType !== 'Observation') return false;
  if (item.tags.includes('entered-in-error')) return false;
  const status = str(d.status);
  if (status === 'entered-in-error' || status === 'cancelled') return false;
  const cats = Array.isArray(d.category) ? d.category : [];
  return !labOnly || cats.includes('laboratory') || item.tags.includes('laboratory');
}

/**
 * The result of a lab Observation item: its number, or its words when it has no number at all
 * ("Negative"); undefined when it has neither.
 */
export function labResult(item: Item): LabResult | undefined {
  const d = item.data ?? {};
  const value = num(d.value);
  // Words only where the source sent no number: a quantity beyond ±1e15 is a bad number, not text.
  const text = d.value === undefined && d.unit === undefined ? resultText(d) : undefined;
  if ((value === undefined && text === undefined) || !item.type || !item.occurredAt) return undefined;
  const ranges = Array.isArray(d.referenceRange) ? d.referenceRange.filter(isObj) : [];
  // The first range with bounds is the one the lab applies (others are for other populations).
  const range = ranges.find((r) => num(r.low) !== undefined || num(r.high) !== undefined);
  const out: LabResult = {
    itemId: item.id,
    source: item.source,
    code: item.type,
    name: shortName(str(d.name) ?? item.title),
    date: item.occurredAt,
    day: sourceDay(item) ?? item.occurredAt.slice(0, 10),
    ...(value !== undefined ? { value } : { text }),
  };
  const unit = str(d.unit);
  if (unit) out.unit = unit;
  if (str(d.valueText)) out.valueText = str(d.valueText);
  const comparator = str(d.comparator);
  if (comparator && COMPARATORS.has(comparator)) out.comparator = comparator as Comparator;
  if (range) {
    if (num(range.low) !== undefined) out.low = num(range.low);
    if (num(range.high) !== undefined) out.high = num(range.high);
    if (str(range.unit)) out.rangeUnit = str(range.unit);
  }
  const interp = flagOfInterpretation(d.interpretation);
  if (interp) out.interpretation = interp;
  return out;
}

/**
 * A coded or text result as the transformer wrote it (integrations/fhir/resources/observation.ts,
 * `valueText`). A dataAbsentReason is written there as "no value (…)": that is the lack of a
 * result, and listing it would hide the last real one.
 */
function resultText(d: Record<string, unknown>): string | undefined {
  const t = str(d.valueText)?.trim();
  if (!t) return undefined;
  if (/^no value \(.*\)$/.test(t) && !Array.isArray(d.valueCodes)) return undefined;
  return t;
}

/** "Glucose [Mass/volume] in Serum or Plasma" -> "Glucose": LOINC long names are for machines. */
function shortName(name: string): string {
  return (
    name
      .replace(/\s*\[[^\]]*\]/g, '')
      .replace(/\s+in\s+(Serum|Plasma|Blood|Urine).*$/i, '')
      .trim() || name
  );
}
