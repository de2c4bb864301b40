/** Observation: values, components, reference ranges, interpretations; numeric ones also become samples. */
import type { QuantitySample } from '../../types.js';
import { type CodeRef, codingsOf, conceptName, describeCodes, loincShortName, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate, instantMs, localDateOf } from '../dates.js';
import { formatNumber, type Json, num, obj, objs, sentences, str, table } from '../util.js';
import type { Built, Ctx } from './context.js';
import {
  actorLabels,
  categoryTags,
  choiceDate,
  codesData,
  conceptNames,
  notesText,
  periodText,
  quantityText,
  quantityUnit,
  rangeText,
  refLabel,
  refLabels,
  withUnit,
} from './readers.js';

const INTERPRETATION = table<string>({
  N: 'normal',
  L: 'low',
  H: 'high',
  LL: 'critically low',
  HH: 'critically high',
  LU: 'significantly low',
  HU: 'significantly high',
  A: 'abnormal',
  AA: 'critically abnormal',
  POS: 'positive',
  NEG: 'negative',
  DET: 'detected',
  ND: 'not detected',
  IND: 'indeterminate',
  I: 'intermediate',
  R: 'resistant',
  S: 'susceptible',
  '<': 'below the measurable range',
  '>': 'above the measurable range',
});

interface ValueInfo {
  /** Readable value with unit ("17 g/dL", "Current every day smoker"). */
  display?: string;
  value?: number;
  /** UCUM code where given, else the unit text. */
  unit?: string;
  /** Unit as people write it ("mmHg" rather than "mm[Hg]"). */
  unitDisplay?: string;
  comparator?: string;
  valueType?: string;
  codes?: CodeRef[];
}

function readValue(el: Json): ValueInfo {
  const q = obj(el.valueQuantity);
  if (q) {
    const value = num(q.value);
    const u = quantityUnit(q);
    const info: ValueInfo = { valueType: 'Quantity', display: quantityText(q) };
    if (value !== undefined) info.value = value;
    const unit = u.ucum ?? u.display;
    if (unit) info.unit = unit;
    if (u.display) info.unitDisplay = u.display;
    const comparator = str(q.comparator);
    if (comparator) info.comparator = comparator;
    return info;
  }
  if (el.valueCodeableConcept !== undefined) {
    const display = conceptName(el.valueCodeableConcept);
    return { valueType: 'CodeableConcept', ...(display ? { display } : {}), codes: codingsOf(el.valueCodeableConcept) };
  }
  const s = str(el.valueString);
  if (s) return { valueType: 'string', display: s };
  if (typeof el.valueBoolean === 'boolean') return { valueType: 'boolean', display: el.valueBoolean ? 'yes' : 'no' };
  const int = num(el.valueInteger);
  if (int !== undefined) return { valueType: 'integer', display: String(int), value: int, unit: '1' };
  const range = obj(el.valueRange);
  if (range) return { valueType: 'Range', display: rangeText(range) };
  const ratio = obj(el.valueRatio);
  if (ratio) {
    const n = obj(ratio.numerator);
    const d = obj(ratio.denominator);
    return { valueType: 'Ratio', display: `${n ? quantityText(n) : '?'} / ${d ? quantityText(d) : '?'}` };
  }
  const dt = str(el.valueDateTime);
  if (dt) return { valueType: 'dateTime', display: describeDate(dt, { time: true }) };
  const period = periodText(el.valuePeriod);
  if (period) return { valueType: 'Period', display: period };
  const time = str(el.valueTime);
  if (time) return { valueType: 'time', display: time };
  const sampled = obj(el.valueSampledData);
  if (sampled) return { valueType: 'SampledData', display: `sampled data (${String(str(sampled.data)?.split(/\s+/).length ?? 0)} points)` };
  const absent = conceptName(el.dataAbsentReason);
  if (absent) return { valueType: 'absent', display: `no value (${absent})` };
  return {};
}

interface RangeInfo {
  low?: number;
  high?: number;
  unit?: string;
  text?: string;
  type?: string;
  /** "13.5–17.5" */
  summary: string;
}

function readRanges(el: Json): RangeInfo[] {
  return objs(el.referenceRange).map((rr) => {
    const low = obj(rr.low);
    const high = obj(rr.high);
    const info: RangeInfo = { summary: '' };
    const lv = low ? num(low.value) : undefined;
    const hv = high ? num(high.value) : undefined;
    if (lv !== undefined) info.low = lv;
    if (hv !== undefined) info.high = hv;
    const u = quantityUnit(low ?? high ?? {});
    if (u.ucum ?? u.display) info.unit = (u.ucum ?? u.display) as string;
    const text = str(rr.text);
    if (text) info.text = text;
    const type = conceptName(rr.type);
    if (type) info.type = type;
    const bounds =
      lv !== undefined && hv !== undefined
        ? `${formatNumber(lv)}–${formatNumber(hv)}`
        : lv !== undefined
          ? `≥ ${formatNumber(lv)}`
          : hv !== undefined
            ? `≤ ${formatNumber(hv)}`
            : '';
    info.summary = bounds || text || '';
    return info;
  });
}

function rangeSentence(ranges: RangeInfo[], unitDisplay: string | undefined): string | undefined {
  const parts = ranges
    .filter((r) => r.summary)
    .map((r) => {
      const bounds = r.low !== undefined || r.high !== undefined ? withUnit(r.summary, unitDisplay ?? r.unit) : r.summary;
      const extra = [r.type, r.text && r.text !== r.summary ? r.text : undefined].filter(Boolean).join('; ');
      return extra ? `${bounds} (${extra})` : bounds;
    });
  return parts.length ? `Reference range: ${parts.join('; ')}` : undefined;
}

function readInterpretation(el: Json): string[] {
  return objs(el.interpretation)
    .map((c) => {
      const code = codingsOf(c)[0]?.code;
      return (code && INTERPRETATION[code]) ?? conceptName(c)?.toLowerCase();
    })
    .filter((x): x is string => !!x);
}

// DSTU2 (Apple's clinical records from Epic sites) named the same code system under hl7.org/fhir.
export const OBS_CATEGORY_SYSTEMS = ['http://terminology.hl7.org/CodeSystem/observation-category', 'http://hl7.org/fhir/observation-category'];
const OBS_KIND = table<string>({
  'vital-signs': 'Vital sign',
  laboratory: 'Laboratory result',
  'social-history': 'Social history',
  imaging: 'Imaging result',
  survey: 'Survey answer',
  exam: 'Examination finding',
  procedure: 'Procedure result',
  therapy: 'Therapy observation',
  activity: 'Activity',
});

interface ComponentInfo extends ValueInfo {
  type: string;
  name: string;
  codes: CodeRef[];
  referenceRange: RangeInfo[];
  interpretation: string[];
}

export function observation(r: Json, ctx: Ctx): Built {
  const name = loincShortName(r.code) ?? (conceptName(r.code) ? stripSemanticTag(conceptName(r.code) as string) : 'Observation');
  const fullName = conceptName(r.code) ?? name;
  const type = typeForConcepts([r.code], 'Observation');
  const status = str(r.status);
  const value = readValue(r);
  const ranges = readRanges(r);
  const interpretation = readInterpretation(r);
  const tags = ['observation', ...categoryTags(r.category, OBS_CATEGORY_SYSTEMS)];
  const categoryNames = conceptNames(r.category);
  const kindLabel = tags.map((t) => OBS_KIND[t]).find(Boolean) ?? 'Observation';
  const effective = choiceDate(r, 'effective');
  const occurredAt = effective ?? str(r.issued);

  const components: ComponentInfo[] = objs(r.component).map((c) => {
    const cName = loincShortName(c.code) ?? conceptName(c.code) ?? 'component';
    return {
      ...readValue(c),
      type: typeForConcepts([c.code], 'Observation'),
      name: cName,
      codes: codingsOf(c.code),
      referenceRange: readRanges(c),
      interpretation: readInterpretation(c),
    };
  });

  // Title: "Blood pressure 131/84 mmHg", "Hemoglobin 13.2 g/dL (ref 13.5–17.5) low".
  let title: string;
  const sys = components.find((c) => c.type === '8480-6');
  const dia = components.find((c) => c.type === '8462-4');
  const abnormal = interpretation.filter((i) => i !== 'normal');
  if (sys?.value !== undefined && dia?.value !== undefined) {
    title = withUnit(`Blood pressure ${formatNumber(sys.value)}/${formatNumber(dia.value)}`, sys.unitDisplay);
  } else if (value.display) {
    const joiner = value.valueType === 'Quantity' || value.valueType === 'integer' ? ' ' : ': ';
    title = `${name}${joiner}${value.display}`;
    const rangeSummary = ranges.find((x) => x.low !== undefined || x.high !== undefined)?.summary;
    if (rangeSummary) title += ` (ref ${rangeSummary})`;
  } else if (components.length) {
    title = `${name}: ${components
      .slice(0, 3)
      .map((c) => `${c.name} ${c.display ?? '?'}`)
      .join(', ')}${components.length > 3 ? ', …' : ''}`;
  } else {
    title = name;
  }
  if (abnormal.length) title += ` ${abnormal.join(', ')}`;
  if (status && !['final', 'amended', 'corrected', 'registered', 'preliminary'].includes(status)) title += ` [${status}]`;

  const compSentences = components.map((c) => {
    const bits = [`${c.name}: ${c.display ?? 'no value'}`];
    const cr = rangeSentence(c.referenceRange, c.unitDisplay);
    if (cr) bits.push(cr.replace('Reference range', 'reference range'));
    if (c.interpretation.length) bits.push(c.interpretation.join(', '));
    const codes = describeCodes([{ coding: c.codes }]);
    if (codes) bits.push(`code ${codes}`);
    return bits.join(', ');
  });

  const text = sentences([
    `${kindLabel}${effective ? ` on ${describeDate(effective, { time: true })}` : ''}: ${title}`,
    value.display && fullName.toLowerCase() !== name.toLowerCase() ? `${fullName}: ${value.display}` : undefined,
    ...compSentences,
    rangeSentence(ranges, value.unitDisplay),
    interpretation.length ? `Interpretation: ${interpretation.join(', ')}` : undefined,
    status ? `Status: ${status}` : undefined,
    categoryNames.length ? `Category: ${categoryNames.join(', ')}` : undefined,
    describeCodes([r.code]) ? `Code: ${describeCodes([r.code])}` : undefined,
    obj(r.effectivePeriod) ? `Period: ${periodText(r.effectivePeriod)}` : undefined,
    str(r.issued) && str(r.issued) !== effective ? `Issued ${describeDate(str(r.issued) as string, { time: true })}` : undefined,
    actorLabels(r.performer, ctx).length ? `Performed by ${actorLabels(r.performer, ctx).join(', ')}` : undefined,
    refLabel(r.device, ctx) ? `Device: ${refLabel(r.device, ctx)}` : undefined,
    refLabel(r.specimen, ctx) ? `Specimen: ${refLabel(r.specimen, ctx)}` : undefined,
    conceptName(r.bodySite) ? `Body site: ${conceptName(r.bodySite)}` : undefined,
    conceptName(r.method) ? `Method: ${conceptName(r.method)}` : undefined,
    refLabel(r.encounter, ctx) ? `Encounter: ${refLabel(r.encounter, ctx)}` : undefined,
    refLabels(r.hasMember, ctx, true).length ? `Members: ${refLabels(r.hasMember, ctx, true).join(', ')}` : undefined,
    notesText(r),
  ]);

  // Samples: one per numeric value. Estimates ("<5") and withdrawn results are not measurements.
  const samples: QuantitySample[] = [];
  const usable = status !== 'entered-in-error' && status !== 'cancelled';
  const start = effective;
  const localDate = start ? localDateOf(start) : undefined;
  const startMs = start ? instantMs(start) : undefined;
  if (usable && start && localDate && startMs !== undefined) {
    const endIso = str(obj(r.effectivePeriod)?.end);
    const endRaw = endIso ? instantMs(endIso) : undefined;
    const endMs = endRaw !== undefined && endRaw >= startMs ? endRaw : startMs;
    const sourceName = refLabel(r.device, ctx) ?? actorLabels(r.performer, ctx)[0] ?? 'FHIR';
    const push = (t: string, v: ValueInfo): void => {
      if (v.value === undefined || v.comparator || t.startsWith('fhir:')) return;
      samples.push({ type: t, unit: v.unit ?? '1', startMs, endMs, localDate, value: v.value, sourceName });
    };
    push(type, value);
    for (const c of components) push(c.type, c);
  }

  return {
    type,
    occurredAt,
    title,
    text,
    tags,
    samples,
    data: {
      status,
      category: tags.filter((t) => t !== 'observation'),
      codes: codesData([r.code]),
      name: fullName,
      ...(value.display !== undefined ? { valueText: value.display } : {}),
      ...(value.value !== undefined ? { value: value.value } : {}),
      ...(value.unit !== undefined ? { unit: value.unit } : {}),
      ...(value.comparator ? { comparator: value.comparator } : {}),
      ...(value.codes ? { valueCodes: value.codes } : {}),
      ...(components.length ? { components } : {}),
      ...(ranges.length ? { referenceRange: ranges } : {}),
      ...(interpretation.length ? { interpretation } : {}),
      effective: { start: effective, end: str(obj(r.effectivePeriod)?.end) },
    },
  };
}
