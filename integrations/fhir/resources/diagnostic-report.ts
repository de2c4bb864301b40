/** DiagnosticReport. */
import { conceptName, describeCodes, loincShortName, stripSemanticTag, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, objs, sentences, str, table } from '../util.js';
import { takeAttachments, withContents } from './attachments.js';
import type { Built, Ctx } from './context.js';
import { OBS_CATEGORY_SYSTEMS, observation } from './observation.js';
import { actorLabels, categoryTags, choiceDate, codesData, conceptNames, refLabel, resolveRef } from './readers.js';

const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const REPORT_CATEGORY = table<string>({
  LAB: 'laboratory',
  HM: 'laboratory',
  CH: 'laboratory',
  MB: 'microbiology',
  PAT: 'pathology',
  SP: 'pathology',
  CP: 'pathology',
  RAD: 'imaging',
  CT: 'imaging',
  MR: 'imaging',
  US: 'imaging',
  NMR: 'imaging',
  CUS: 'cardiology',
  EC: 'cardiology',
});

export function diagnosticReport(r: Json, ctx: Ctx): Built {
  const fullName = conceptName(r.code) ?? 'Diagnostic report';
  const name = loincShortName(r.code) ?? stripSemanticTag(fullName);
  const status = str(r.status);
  const effective = choiceDate(r, 'effective');
  const issued = str(r.issued);
  const results = objs(r.result).map((ref) => {
    const target = resolveRef(ref, ctx);
    // A result in the same Bundle is summarised with its value, not just its name.
    if (target && str(target.resourceType) === 'Observation') {
      const title = observation(target, { ...ctx, resource: target, stored: {}, issues: [], attachments: [], stripped: [] }).title;
      const reference = str(ref.reference);
      return reference ? `${title} (${reference})` : title;
    }
    return refLabel(ref, ctx, true) ?? 'unnamed result';
  });
  const storedForms = objs(ctx.stored.presentedForm);
  const att = takeAttachments(
    objs(r.presentedForm).map((a, i) => ({ att: a, stored: storedForms[i], path: `presentedForm[${i}]` })),
    ctx,
  );
  const tags = ['diagnostic-report', ...categoryTags(r.category, [V2_0074, ...OBS_CATEGORY_SYSTEMS], REPORT_CATEGORY)];
  const conclusion = str(r.conclusion);
  const conclusionCodes = conceptNames(r.conclusionCode);
  const text = sentences([
    `Diagnostic report: ${fullName}`,
    effective ? `Collected ${describeDate(effective, { time: true })}` : undefined,
    issued ? `Issued ${describeDate(issued, { time: true })}` : undefined,
    status ? `Status: ${status}` : undefined,
    conceptNames(r.category).length ? `Category: ${conceptNames(r.category).join(', ')}` : undefined,
    results.length ? `Results: ${results.join('; ')}` : undefined,
    conclusion ? `Conclusion: ${conclusion}` : undefined,
    conclusionCodes.length ? `Coded conclusion: ${conclusionCodes.join(', ')}` : undefined,
    describeCodes([r.code]) ? `Code: ${describeCodes([r.code])}` : undefined,
    actorLabels(r.performer, ctx).length ? `Performed by ${actorLabels(r.performer, ctx).join(', ')}` : undefined,
    actorLabels(r.resultsInterpreter, ctx).length ? `Interpreted by ${actorLabels(r.resultsInterpreter, ctx).join(', ')}` : undefined,
    refLabel(r.encounter, ctx) ? `Encounter: ${refLabel(r.encounter, ctx)}` : undefined,
    att.lines.length ? `Attachments: ${att.lines.join('; ')}` : undefined,
  ]);
  return {
    type: typeForConcepts([r.code], 'DiagnosticReport'),
    occurredAt: effective ?? issued,
    title: status && status !== 'final' ? `${name} (${status})` : name,
    text: withContents(text, att.texts),
    tags,
    data: {
      codes: codesData([r.code]),
      name: fullName,
      status,
      results: objs(r.result).map((x) => ({ reference: str(x.reference), display: str(x.display) })),
      conclusion,
      ...(att.remote.length ? { remoteAttachments: att.remote } : {}),
    },
  };
}
