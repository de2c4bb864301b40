/** DocumentReference. */
import { conceptName, describeCodes, typeForConcepts } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, obj, objs, sentences, str } from '../util.js';
import { takeAttachments, withContents } from './attachments.js';
import type { Built, Ctx } from './context.js';
import { categoryTags, codesData, conceptNames, periodText, refLabel, refLabels } from './readers.js';

const DOC_CATEGORY_SYSTEMS = ['http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category'];

export function documentReference(r: Json, ctx: Ctx): Built {
  const typeName = conceptName(r.type) ?? 'Document';
  const description = str(r.description);
  const status = str(r.status);
  const docStatus = str(r.docStatus);
  const context = obj(r.context);
  const date = str(r.date);
  // The care the document is about (context.period) dates it better than when it was indexed.
  const occurredAt = str(obj(context?.period)?.start) ?? date;
  const storedContent = objs(ctx.stored.content);
  const att = takeAttachments(
    objs(r.content).flatMap((c, i) => {
      const a = obj(c.attachment);
      return a ? [{ att: a, stored: obj(storedContent[i]?.attachment), path: `content[${i}].attachment` }] : [];
    }),
    ctx,
  );
  const text = sentences([
    `Document: ${typeName}${description ? ` — ${description}` : ''}`,
    date ? `Dated ${describeDate(date, { time: true })}` : undefined,
    periodText(context?.period) ? `Covers ${periodText(context?.period)}` : undefined,
    status ? `Status: ${status}${docStatus ? ` (${docStatus})` : ''}` : undefined,
    conceptNames(r.category).length ? `Category: ${conceptNames(r.category).join(', ')}` : undefined,
    describeCodes([r.type]) ? `Type: ${describeCodes([r.type])}` : undefined,
    refLabels(r.author, ctx).length ? `Author: ${refLabels(r.author, ctx).join(', ')}` : undefined,
    refLabel(r.custodian, ctx) ? `Custodian: ${refLabel(r.custodian, ctx)}` : undefined,
    conceptName(context?.facilityType) ? `Facility: ${conceptName(context?.facilityType)}` : undefined,
    conceptName(context?.practiceSetting) ? `Practice setting: ${conceptName(context?.practiceSetting)}` : undefined,
    att.lines.length ? `Attachments: ${att.lines.join('; ')}` : undefined,
  ]);
  return {
    kind: 'document',
    type: typeForConcepts([r.type], 'DocumentReference'),
    occurredAt,
    title: description && description !== typeName ? `${typeName}: ${description}` : typeName,
    text: withContents(text, att.texts),
    tags: ['document', ...categoryTags(r.category, DOC_CATEGORY_SYSTEMS)],
    data: { codes: codesData([r.type]), name: typeName, description, status, date, ...(att.remote.length ? { remoteAttachments: att.remote } : {}) },
  };
}
