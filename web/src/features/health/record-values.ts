import type { Item } from '../../api/types';

export interface RecordValue {
  value: string | null;
  unit: string | null;
  range: string | null;
  interpretation: string | null;
  status: string | null;
  /** -1 below range, 1 above, 0 within, null unknown */
  flag: -1 | 0 | 1 | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() && Number.isFinite(Number(v)) ? Number(v) : null;

function codeText(v: unknown): string | null {
  if (!isObj(v)) return str(v);
  if (str(v.text)) return str(v.text);
  const coding = Array.isArray(v.coding) ? (v.coding as unknown[]) : [];
  for (const c of coding) if (isObj(c) && (str(c.display) || str(c.code))) return str(c.display) ?? str(c.code);
  return null;
}

function quantity(q: unknown): { value: number | null; unit: string | null } {
  if (!isObj(q)) return { value: num(q), unit: null };
  return { value: num(q.value), unit: str(q.unit) ?? str(q.code) };
}

function rangeText(r: unknown, unit: string | null): { text: string | null; low: number | null; high: number | null } {
  const first = Array.isArray(r) ? r[0] : r;
  if (!isObj(first)) return { text: str(first), low: null, high: null };
  const low = quantity(first.low).value ?? num(first.low);
  const high = quantity(first.high).value ?? num(first.high);
  const u = quantity(first.low).unit ?? quantity(first.high).unit ?? str(first.unit) ?? unit;
  let text = str(first.summary) ?? str(first.text);
  if (!text && (low !== null || high !== null)) {
    text = low !== null && high !== null ? `${low}–${high}` : low !== null ? `≥ ${low}` : `≤ ${high}`;
    if (u) text += ` ${u}`;
  }
  return { text, low, high };
}

/**
 * Reads the value, unit and reference range of a record whatever the importer stored: a
 * normalised `{ value, unit, referenceRange }`, or the original FHIR resource under
 * `resource` / `raw` / `fhir` (valueQuantity, valueString, referenceRange[0]).
 */
export function recordValue(item: Item): RecordValue {
  const d: Obj = item.data ?? {};
  const res: Obj = [d.resource, d.fhir, d.raw, d.original].find(isObj) ?? (str(d.resourceType) ? d : {});
  let value: number | string | null = null;
  let unit: string | null = null;

  const nv = d.value;
  if (isObj(nv)) ({ value, unit } = quantity(nv));
  else if (nv !== undefined) value = num(nv) ?? str(nv);
  if (value === null) value = str(d.valueText);
  unit = str(d.unit) ?? unit;

  if (value === null && isObj(res)) {
    if (isObj(res.valueQuantity)) ({ value, unit } = quantity(res.valueQuantity));
    else
      value = str(res.valueString) ?? codeText(res.valueCodeableConcept) ?? (typeof res.valueBoolean === 'boolean' ? (res.valueBoolean ? 'Yes' : 'No') : null);
  }

  const r = rangeText(d.referenceRange ?? d.range ?? res.referenceRange, unit);
  const n = typeof value === 'number' ? value : num(value);
  const flag: RecordValue['flag'] =
    n === null || (r.low === null && r.high === null) ? null : r.low !== null && n < r.low ? -1 : r.high !== null && n > r.high ? 1 : 0;

  return {
    value: value === null ? null : String(value),
    unit,
    range: r.text,
    interpretation:
      (Array.isArray(d.interpretation) ? d.interpretation.map(codeText).filter(Boolean).join(', ') || null : codeText(d.interpretation)) ??
      (Array.isArray(res.interpretation) ? codeText(res.interpretation[0]) : codeText(res.interpretation)),
    status: str(d.status) ?? codeText(d.clinicalStatus) ?? codeText(res.clinicalStatus) ?? str(res.status),
    flag,
  };
}
