/** Encounter. */
import { codingsOf, conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { type Json, obj, objs, sentences, str, table } from '../util.js';
import type { Built, Ctx } from './context.js';
import { codesData, conceptNames, periodText, refLabel, refLabels } from './readers.js';

const ENCOUNTER_CLASS = table<string>({
  AMB: 'ambulatory',
  EMER: 'emergency',
  IMP: 'inpatient',
  ACUTE: 'inpatient acute',
  NONAC: 'inpatient non-acute',
  OBSENC: 'observation',
  PRENC: 'pre-admission',
  SS: 'short stay',
  HH: 'home health',
  VR: 'virtual',
  FLD: 'field',
});

export function encounter(r: Json, ctx: Ctx): Built {
  // R4 has class as a Coding; R5 and some servers send CodeableConcepts.
  const classCoding = codingsOf(r.class)[0] ?? objs(r.class).flatMap(codingsOf)[0];
  const classLabel = classCoding ? (ENCOUNTER_CLASS[classCoding.code] ?? classCoding.display?.toLowerCase() ?? classCoding.code) : undefined;
  const types = objs(r.type);
  const typeName = conceptNames(types)[0];
  const status = str(r.status);
  const period = periodText(r.period);
  const reasons = [...conceptNames(r.reasonCode), ...refLabels(r.reasonReference, ctx)];
  const participants = objs(r.participant)
    .map((p) => refLabel(p.individual, ctx))
    .filter((x): x is string => !!x);
  const locations = objs(r.location)
    .map((l) => refLabel(l.location, ctx))
    .filter((x): x is string => !!x);
  const discharge = conceptName(obj(r.hospitalization)?.dischargeDisposition);
  const title = typeName
    ? `${stripSemanticTag(typeName)}${classLabel ? ` (${classLabel})` : ''}`
    : `${classLabel ? classLabel[0]?.toUpperCase() + classLabel.slice(1) : 'Healthcare'} encounter`;
  const text = sentences([
    `Encounter${classLabel ? ` (${classLabel})` : ''}${typeName ? `: ${conceptNames(types).join(', ')}` : ''}`,
    period ? `When: ${period}` : undefined,
    status ? `Status: ${status}` : undefined,
    conceptName(r.serviceType) ? `Service: ${conceptName(r.serviceType)}` : undefined,
    reasons.length ? `Reason: ${reasons.join(', ')}` : undefined,
    participants.length ? `Seen by ${participants.join(', ')}` : undefined,
    locations.length ? `Location: ${locations.join(', ')}` : undefined,
    refLabel(r.serviceProvider, ctx) ? `Provider: ${refLabel(r.serviceProvider, ctx)}` : undefined,
    discharge ? `Discharge disposition: ${discharge}` : undefined,
    describeCodes(types) ? `Codes: ${describeCodes(types)}` : undefined,
  ]);
  return {
    type: typeForConcepts(types, 'Encounter'),
    occurredAt: str(obj(r.period)?.start),
    title,
    text,
    tags: ['encounter'],
    data: { codes: codesData(types), class: classCoding, status, period: obj(r.period), reasons },
  };
}
