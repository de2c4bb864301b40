/** MedicationRequest and MedicationStatement. */
import { conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, num, obj, objs, sentences, str } from '../util.js';
import type { Built, Ctx } from './context.js';
import { choiceDate, choiceText, codesData, conceptNames, notesText, quantityText, rangeText, refLabel, refLabels, resolveRef } from './readers.js';

function dosageText(d: Json): string | undefined {
  const text = str(d.text);
  if (text) return text;
  const bits: string[] = [];
  for (const dr of objs(d.doseAndRate)) {
    const q = obj(dr.doseQuantity);
    if (q) bits.push(quantityText(q));
    const range = obj(dr.doseRange);
    if (range) bits.push(rangeText(range));
  }
  const rep = obj(obj(d.timing)?.repeat);
  if (rep) {
    const freq = num(rep.frequency);
    const period = num(rep.period);
    const unit = str(rep.periodUnit);
    if (freq !== undefined && period !== undefined && unit) bits.push(`${freq} time${freq === 1 ? '' : 's'} per ${period === 1 ? '' : `${period} `}${unit}`);
  }
  const timingCode = conceptName(obj(d.timing)?.code);
  if (timingCode) bits.push(timingCode);
  if (conceptName(d.route)) bits.push(conceptName(d.route) as string);
  if (d.asNeededBoolean === true) bits.push('as needed');
  const asNeeded = conceptName(d.asNeededCodeableConcept);
  if (asNeeded) bits.push(`as needed for ${asNeeded}`);
  return bits.length ? bits.join(', ') : undefined;
}

export function medication(r: Json, ctx: Ctx): Built {
  const isRequest = ctx.rt === 'MedicationRequest';
  const medRes = resolveRef(r.medicationReference, ctx);
  const concept = r.medicationCodeableConcept ?? medRes?.code;
  const fullName = conceptName(concept) ?? refLabel(r.medicationReference, ctx) ?? 'Unnamed medication';
  const status = str(r.status);
  const intent = str(r.intent);
  const date = isRequest ? str(r.authoredOn) : (choiceDate(r, 'effective') ?? str(r.dateAsserted));
  const dosages = objs(isRequest ? r.dosageInstruction : r.dosage)
    .map(dosageText)
    .filter((x): x is string => !!x);
  const reasons = [...conceptNames(r.reasonCode), ...refLabels(r.reasonReference, ctx)];
  const ingredients = objs(medRes?.ingredient)
    .map((i) => conceptName(i.itemCodeableConcept) ?? refLabel(i.itemReference, ctx))
    .filter((x): x is string => !!x);
  const kindText = isRequest ? `Medication request${intent ? ` (${intent})` : ''}` : 'Medication statement';
  const text = sentences([
    `${kindText}: ${fullName}`,
    status ? `Status: ${status}` : undefined,
    isRequest && date ? `Written ${describeDate(date, { time: true })}` : undefined,
    !isRequest && (choiceText(r, 'effective') ?? (date ? describeDate(date) : undefined))
      ? `Taken: ${choiceText(r, 'effective') ?? describeDate(date as string)}`
      : undefined,
    dosages.length ? `Dosage: ${dosages.join('; ')}` : undefined,
    reasons.length ? `Reason: ${reasons.join(', ')}` : undefined,
    conceptName(medRes?.form) ? `Form: ${conceptName(medRes?.form)}` : undefined,
    ingredients.length ? `Ingredients: ${ingredients.join(', ')}` : undefined,
    conceptNames(r.category).length ? `Category: ${conceptNames(r.category).join(', ')}` : undefined,
    describeCodes([concept]) ? `Codes: ${describeCodes([concept])}` : undefined,
    refLabel(r.requester, ctx) ? `Requested by ${refLabel(r.requester, ctx)}` : undefined,
    refLabel(r.informationSource, ctx) ? `Information source: ${refLabel(r.informationSource, ctx)}` : undefined,
    notesText(r),
  ]);
  return {
    type: typeForConcepts([concept], ctx.rt),
    occurredAt: date,
    title: status ? `${stripSemanticTag(fullName)} (${status})` : stripSemanticTag(fullName),
    text,
    tags: ['medication'],
    data: { codes: codesData([concept]), name: fullName, status, intent, dosage: dosages, reasons },
  };
}
