/** Readers shared by the resource handlers: periods, choice[x] values, names, references, quantities. */
import { type CodeRef, codingsOf, conceptName } from '../codes.js';
import { describeDate, localDateOf } from '../dates.js';
import { formatNumber, isObject, type Json, num, obj, objs, str, strs } from '../util.js';
import type { Ctx } from './context.js';

const UCUM = 'http://unitsofmeasure.org';

/** "27 Sep 2025, 13:00 to 19:01" or "2 Jul 1999 to 4 Jul 1999". */
export function periodText(p: unknown): string | undefined {
  const period = obj(p);
  const start = str(period?.start);
  const end = str(period?.end);
  if (!start && !end) return undefined;
  if (start && end) {
    const s = describeDate(start, { time: true });
    const e = describeDate(end, { time: true });
    const sameDay = localDateOf(start) !== undefined && localDateOf(start) === localDateOf(end);
    const endTime = /, (\d{2}:\d{2})$/.exec(e)?.[1];
    return sameDay && endTime ? `${s} to ${endTime}` : `${s} to ${e}`;
  }
  return start ? `from ${describeDate(start, { time: true })}` : `until ${describeDate(end as string, { time: true })}`;
}

/** A FHIR `[x]` choice's date: the dateTime, or the Period's start. */
export function choiceDate(r: Json, prefix: string): string | undefined {
  const dt = str(r[`${prefix}DateTime`]) ?? str(r[`${prefix}Instant`]);
  if (dt) return dt;
  const period = obj(r[`${prefix}Period`]);
  return str(period?.start);
}

/** Human text for a FHIR `[x]` timing (onset, abatement, performed, occurrence). */
export function choiceText(r: Json, prefix: string): string | undefined {
  const dt = str(r[`${prefix}DateTime`]) ?? str(r[`${prefix}Instant`]);
  if (dt) return describeDate(dt, { time: true });
  const p = periodText(r[`${prefix}Period`]);
  if (p) return p;
  const age = obj(r[`${prefix}Age`]);
  if (age && num(age.value) !== undefined) return `at age ${quantityText(age)}`;
  const range = obj(r[`${prefix}Range`]);
  if (range) return `at age ${rangeText(range)}`;
  const s = str(r[`${prefix}String`]);
  if (s) return s;
  if (r[`${prefix}Boolean`] === true) return 'yes';
  return undefined;
}

export function humanName(n: Json): string | undefined {
  const text = str(n.text);
  if (text) return text;
  const parts = [...strs(n.prefix), ...strs(n.given), str(n.family), ...strs(n.suffix)].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

/** The name now in use: official or usual, not ended, else the first. */
export function currentName(names: Json[]): Json | undefined {
  const live = names.filter((n) => !str(obj(n.period)?.end) && str(n.use) !== 'old');
  return live.find((n) => str(n.use) === 'official') ?? live.find((n) => str(n.use) === 'usual') ?? live[0] ?? names[0];
}

/** Finds a referenced resource: contained ("#id"), the Bundle, or the caller's resolver. */
export function resolveRef(ref: unknown, ctx: Ctx): Json | undefined {
  const reference = str(obj(ref)?.reference);
  if (!reference) return undefined;
  if (reference.startsWith('#')) {
    return objs(ctx.resource.contained).find((c) => str(c.id) === reference.slice(1));
  }
  const found = ctx.opts.resolve?.(reference);
  return isObject(found) ? found : undefined;
}

/** Readable label of a Reference: its display, else the name of what it points to. */
export function refLabel(ref: unknown, ctx: Ctx, withReference = false): string | undefined {
  const r = obj(ref);
  if (!r) return undefined;
  const display = str(r.display);
  if (display) return withReference && str(r.reference) ? `${display} (${str(r.reference)})` : display;
  const target = resolveRef(r, ctx);
  if (target) {
    const names = objs(target.name);
    const name = (names.length ? humanName(currentName(names) ?? {}) : str(target.name)) ?? conceptName(target.code) ?? str(target.title);
    if (name) return name;
  }
  const reference = str(r.reference);
  if (withReference && reference) return reference;
  return undefined;
}

export function refLabels(refs: unknown, ctx: Ctx, withReference = false): string[] {
  return objs(refs)
    .map((r) => refLabel(r, ctx, withReference))
    .filter((x): x is string => !!x);
}

/** Performer / actor lists: Reference, or { actor: Reference } (Immunization, Procedure). */
export function actorLabels(list: unknown, ctx: Ctx): string[] {
  return objs(list)
    .map((p) => refLabel(obj(p.actor) ?? p, ctx))
    .filter((x): x is string => !!x);
}

export function conceptNames(list: unknown): string[] {
  return objs(list)
    .map((c) => conceptName(c))
    .filter((x): x is string => !!x);
}

export function notesText(r: Json): string | undefined {
  const notes = objs(r.note)
    .map((n) => str(n.text))
    .filter((x): x is string => !!x);
  return notes.length ? `Note: ${notes.join(' ')}` : undefined;
}

export function statusCode(concept: unknown): string | undefined {
  return codingsOf(concept)[0]?.code ?? str(obj(concept)?.text);
}

/** Tags from category codings in the given systems (e.g. "vital-signs", "laboratory"). */
export function categoryTags(categories: unknown, systems: string[], map: Record<string, string> = {}): string[] {
  const out: string[] = [];
  for (const c of objs(categories).flatMap(codingsOf)) {
    if (c.system && !systems.includes(c.system)) continue;
    // Own keys only: a code such as "constructor" must not find Object.prototype's.
    const mapped = Object.hasOwn(map, c.code) ? map[c.code] : undefined;
    if (mapped) out.push(mapped);
    else if (/^[a-z][a-z-]*$/.test(c.code)) out.push(c.code);
  }
  return out;
}

export function codesData(concepts: unknown[]): CodeRef[] {
  return concepts.flatMap(codingsOf);
}

export function quantityUnit(q: Json): { ucum?: string; display?: string } {
  const code = str(q.code);
  const system = str(q.system);
  const unit = str(q.unit);
  const out: { ucum?: string; display?: string } = {};
  if (code && (!system || system === UCUM)) out.ucum = code;
  const display = unit ?? code;
  if (display) out.display = display;
  return out;
}

export function withUnit(value: string, unit: string | undefined): string {
  if (!unit) return value;
  return unit === '%' ? `${value}%` : `${value} ${unit}`;
}

export function quantityText(q: Json): string {
  const v = num(q.value);
  const comparator = str(q.comparator) ?? '';
  return withUnit(`${comparator}${v === undefined ? '?' : formatNumber(v)}`, quantityUnit(q).display);
}

export function rangeText(range: Json): string {
  const low = obj(range.low);
  const high = obj(range.high);
  const lv = low ? num(low.value) : undefined;
  const hv = high ? num(high.value) : undefined;
  const unit = quantityUnit(high ?? low ?? {}).display;
  if (lv !== undefined && hv !== undefined) return withUnit(`${formatNumber(lv)}–${formatNumber(hv)}`, unit);
  if (lv !== undefined) return withUnit(`≥ ${formatNumber(lv)}`, unit);
  if (hv !== undefined) return withUnit(`≤ ${formatNumber(hv)}`, unit);
  return '';
}
