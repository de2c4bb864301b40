/** Procedure. */
import { conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { type Json, sentences, str } from '../util.js';
import type { Built, Ctx } from './context.js';
import { actorLabels, choiceDate, choiceText, codesData, conceptNames, notesText, refLabel, refLabels } from './readers.js';

export function procedure(r: Json, ctx: Ctx): Built {
  const fullName = conceptName(r.code) ?? 'Unnamed procedure';
  const status = str(r.status);
  const performed = choiceText(r, 'performed');
  const reasons = [...conceptNames(r.reasonCode), ...refLabels(r.reasonReference, ctx)];
  const text = sentences([
    `Procedure: ${fullName}`,
    performed ? `Performed ${performed}` : undefined,
    status ? `Status: ${status}` : undefined,
    conceptName(r.statusReason) ? `Status reason: ${conceptName(r.statusReason)}` : undefined,
    conceptName(r.category) ? `Category: ${conceptName(r.category)}` : undefined,
    reasons.length ? `Reason: ${reasons.join(', ')}` : undefined,
    conceptNames(r.bodySite).length ? `Body site: ${conceptNames(r.bodySite).join(', ')}` : undefined,
    conceptName(r.outcome) ? `Outcome: ${conceptName(r.outcome)}` : undefined,
    conceptNames(r.complication).length ? `Complications: ${conceptNames(r.complication).join(', ')}` : undefined,
    conceptNames(r.followUp).length ? `Follow-up: ${conceptNames(r.followUp).join(', ')}` : undefined,
    actorLabels(r.performer, ctx).length ? `Performed by ${actorLabels(r.performer, ctx).join(', ')}` : undefined,
    refLabel(r.location, ctx) ? `Location: ${refLabel(r.location, ctx)}` : undefined,
    describeCodes([r.code]) ? `Codes: ${describeCodes([r.code])}` : undefined,
    refLabel(r.encounter, ctx) ? `Encounter: ${refLabel(r.encounter, ctx)}` : undefined,
    notesText(r),
  ]);
  const name = stripSemanticTag(fullName);
  return {
    type: typeForConcepts([r.code], 'Procedure'),
    occurredAt: choiceDate(r, 'performed'),
    title: status && status !== 'completed' ? `${name} (${status})` : name,
    text,
    tags: ['procedure'],
    data: { codes: codesData([r.code]), name: fullName, status, reasons },
  };
}
