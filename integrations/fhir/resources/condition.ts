/** Condition. */
import { conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, sentences, str } from '../util.js';
import type { Built, Ctx } from './context.js';
import { categoryTags, choiceDate, choiceText, codesData, conceptNames, notesText, refLabel, statusCode } from './readers.js';

const CONDITION_CATEGORY_SYSTEMS = ['http://terminology.hl7.org/CodeSystem/condition-category', 'http://hl7.org/fhir/us/core/CodeSystem/condition-category'];

export function condition(r: Json, ctx: Ctx): Built {
  const fullName = conceptName(r.code) ?? 'Unnamed condition';
  const name = stripSemanticTag(fullName);
  const clinical = statusCode(r.clinicalStatus);
  const verification = statusCode(r.verificationStatus);
  const onset = choiceText(r, 'onset');
  const abatement = choiceText(r, 'abatement');
  const recorded = str(r.recordedDate);
  const text = sentences([
    `Condition: ${fullName}`,
    clinical ? `Clinical status: ${clinical}` : undefined,
    verification ? `Verification: ${verification}` : undefined,
    conceptNames(r.category).length ? `Category: ${conceptNames(r.category).join(', ')}` : undefined,
    conceptName(r.severity) ? `Severity: ${conceptName(r.severity)}` : undefined,
    onset ? `Onset: ${onset}` : undefined,
    abatement ? `Resolved: ${abatement}` : undefined,
    recorded ? `Recorded ${describeDate(recorded, { time: true })}` : undefined,
    conceptNames(r.bodySite).length ? `Body site: ${conceptNames(r.bodySite).join(', ')}` : undefined,
    describeCodes([r.code]) ? `Codes: ${describeCodes([r.code])}` : undefined,
    refLabel(r.recorder, ctx) ? `Recorded by ${refLabel(r.recorder, ctx)}` : undefined,
    refLabel(r.asserter, ctx) ? `Asserted by ${refLabel(r.asserter, ctx)}` : undefined,
    refLabel(r.encounter, ctx) ? `Encounter: ${refLabel(r.encounter, ctx)}` : undefined,
    notesText(r),
  ]);
  return {
    type: typeForConcepts([r.code], 'Condition'),
    occurredAt: choiceDate(r, 'onset') ?? recorded,
    title: clinical ? `${name} (${clinical})` : name,
    text,
    tags: ['condition', ...categoryTags(r.category, CONDITION_CATEGORY_SYSTEMS)],
    data: {
      codes: codesData([r.code]),
      name: fullName,
      clinicalStatus: clinical,
      verificationStatus: verification,
      onset: choiceDate(r, 'onset'),
      abatement: choiceDate(r, 'abatement'),
      recordedDate: recorded,
    },
  };
}
