/** AllergyIntolerance. */
import { conceptName, describeCodes, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, objs, sentences, str, strs } from '../util.js';
import type { Built, Ctx } from './context.js';
import { choiceDate, choiceText, codesData, conceptNames, notesText, refLabel, statusCode } from './readers.js';

export function allergy(r: Json, ctx: Ctx): Built {
  const fullName = conceptName(r.code) ?? 'unknown substance';
  const name = stripSemanticTag(fullName);
  const kind = str(r.type) === 'intolerance' ? 'Intolerance' : 'Allergy';
  const clinical = statusCode(r.clinicalStatus);
  const verification = statusCode(r.verificationStatus);
  const criticality = str(r.criticality);
  const categories = strs(r.category);
  const reactions = objs(r.reaction).map((x) => ({
    manifestations: conceptNames(x.manifestation),
    severity: str(x.severity),
    description: str(x.description),
    substance: conceptName(x.substance),
    onset: str(x.onset),
  }));
  const reactionText = reactions
    .map((x) => {
      const what = x.manifestations.join(', ') || x.description || 'reaction';
      const extras = [x.severity, x.onset ? describeDate(x.onset) : undefined].filter(Boolean).join(', ');
      return extras ? `${what} (${extras})` : what;
    })
    .join('; ');
  const recorded = str(r.recordedDate);
  const onset = choiceText(r, 'onset');
  const text = sentences([
    `${kind} to ${fullName}${categories.length ? ` (${categories.join(', ')})` : ''}`,
    clinical ? `Clinical status: ${clinical}` : undefined,
    verification ? `Verification: ${verification}` : undefined,
    criticality ? `Criticality: ${criticality}` : undefined,
    reactionText ? `Reactions: ${reactionText}` : undefined,
    onset ? `Onset: ${onset}` : undefined,
    recorded ? `Recorded ${describeDate(recorded, { time: true })}` : undefined,
    str(r.lastOccurrence) ? `Last occurrence ${describeDate(str(r.lastOccurrence) as string)}` : undefined,
    describeCodes([r.code]) ? `Codes: ${describeCodes([r.code])}` : undefined,
    refLabel(r.recorder, ctx) ? `Recorded by ${refLabel(r.recorder, ctx)}` : undefined,
    notesText(r),
  ]);
  return {
    type: typeForConcepts([r.code], 'AllergyIntolerance'),
    occurredAt: choiceDate(r, 'onset') ?? recorded,
    title: `${kind}: ${name}${criticality === 'high' ? ' (high criticality)' : ''}`,
    text,
    tags: ['allergy', ...categories],
    data: {
      codes: codesData([r.code]),
      name: fullName,
      clinicalStatus: clinical,
      verificationStatus: verification,
      criticality,
      category: categories,
      reactions,
    },
  };
}
