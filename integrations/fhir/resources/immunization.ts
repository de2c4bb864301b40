/** Immunization. */
import { conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, num, obj, objs, sentences, str } from '../util.js';
import type { Built, Ctx } from './context.js';
import { actorLabels, codesData, notesText, quantityText, refLabel } from './readers.js';

export function immunization(r: Json, ctx: Ctx): Built {
  const fullName = conceptName(r.vaccineCode) ?? 'Unnamed vaccine';
  const status = str(r.status);
  const date = str(r.occurrenceDateTime) ?? str(r.recorded);
  const when = str(r.occurrenceDateTime) ? describeDate(str(r.occurrenceDateTime) as string, { time: true }) : str(r.occurrenceString);
  const doses = objs(r.protocolApplied)
    .map((p) => {
      const n = num(p.doseNumberPositiveInt) ?? str(p.doseNumberString);
      const of = num(p.seriesDosesPositiveInt) ?? str(p.seriesDosesString);
      return n !== undefined ? `dose ${n}${of !== undefined ? ` of ${of}` : ''}` : undefined;
    })
    .filter(Boolean);
  const text = sentences([
    `Immunization${status === 'not-done' ? ' not given' : ''}: ${fullName}`,
    when ? `Given ${when}` : undefined,
    status ? `Status: ${status}` : undefined,
    conceptName(r.statusReason) ? `Reason not given: ${conceptName(r.statusReason)}` : undefined,
    doses.length ? `Dose: ${doses.join(', ')}` : undefined,
    obj(r.doseQuantity) ? `Amount: ${quantityText(obj(r.doseQuantity) as Json)}` : undefined,
    conceptName(r.site) ? `Site: ${conceptName(r.site)}` : undefined,
    conceptName(r.route) ? `Route: ${conceptName(r.route)}` : undefined,
    str(r.lotNumber) ? `Lot number: ${str(r.lotNumber)}` : undefined,
    refLabel(r.manufacturer, ctx) ? `Manufacturer: ${refLabel(r.manufacturer, ctx)}` : undefined,
    refLabel(r.location, ctx) ? `Location: ${refLabel(r.location, ctx)}` : undefined,
    actorLabels(r.performer, ctx).length ? `Performed by ${actorLabels(r.performer, ctx).join(', ')}` : undefined,
    r.primarySource === false ? 'Reported by a secondary source' : undefined,
    describeCodes([r.vaccineCode]) ? `Codes: ${describeCodes([r.vaccineCode])}` : undefined,
    notesText(r),
  ]);
  return {
    type: typeForConcepts([r.vaccineCode], 'Immunization'),
    occurredAt: date,
    title: `${status === 'not-done' ? 'Immunization not given' : 'Immunization'}: ${stripSemanticTag(fullName)}`,
    text,
    tags: ['immunization'],
    data: { codes: codesData([r.vaccineCode]), name: fullName, status, lotNumber: str(r.lotNumber) },
  };
}
