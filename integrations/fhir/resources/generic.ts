/** Every other resource type: kept as a generic record, never dropped. */
import { conceptName, stripSemanticTag } from '../codes.js';
import { describeDate, isFhirDate } from '../dates.js';
import { htmlToText, type Json, obj, sentences, str } from '../util.js';
import { type AttachmentResult, takeAttachments, withContents } from './attachments.js';
import type { Built, Ctx } from './context.js';
import { periodText, quantityText } from './readers.js';

/** Date fields tried in order for resources without a handler. */
const GENERIC_DATES = [
  'effectiveDateTime',
  'effectivePeriod',
  'occurrenceDateTime',
  'occurrencePeriod',
  'performedDateTime',
  'performedPeriod',
  'onsetDateTime',
  'period',
  'authoredOn',
  'recordedDate',
  'issued',
  'created',
  'date',
  'sent',
  'recorded',
  'birthDate',
];
const SKIP_KEYS = new Set(['resourceType', 'id', 'meta', 'text', 'contained', 'extension', 'modifierExtension', 'implicitRules', 'language']);

/** A short readable form of any FHIR element, for generic records. */
function elementText(v: unknown, depth = 0): string | undefined {
  if (typeof v === 'string') {
    if (isFhirDate(v)) return describeDate(v, { time: true });
    return v.length > 300 ? `${v.slice(0, 300)}…` : v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const parts = v
      .slice(0, 10)
      .map((x) => elementText(x, depth))
      .filter(Boolean);
    return parts.length ? parts.join('; ') + (v.length > 10 ? '; …' : '') : undefined;
  }
  const o = obj(v);
  if (!o || depth > 2) return undefined;
  if (Array.isArray(o.coding) || (str(o.text) && Object.keys(o).length <= 2)) return conceptName(o);
  if (str(o.reference) || str(o.display)) return str(o.display) ?? str(o.reference);
  if (o.value !== undefined && (o.unit !== undefined || o.code !== undefined)) return quantityText(o);
  if (str(o.start) || str(o.end)) return periodText(o);
  if (str(o.code) && str(o.system)) return str(o.display) ?? str(o.code);
  const parts = Object.entries(o)
    .filter(([k]) => !SKIP_KEYS.has(k) && k !== 'data')
    .map(([k, x]) => {
      const t = elementText(x, depth + 1);
      return t ? `${k} ${t}` : undefined;
    })
    .filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

function humanize(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function generic(r: Json, ctx: Ctx): Built {
  const rt = ctx.rt;
  let occurredAt: string | undefined;
  for (const k of GENERIC_DATES) {
    const v = r[k];
    const d = typeof v === 'string' ? v : str(obj(v)?.start);
    if (d && isFhirDate(d)) {
      occurredAt = d;
      break;
    }
  }
  const codeName = conceptName(r.code) ?? conceptName(r.type) ?? str(r.name) ?? str(r.title);
  // Binary and Media carry files; keep them as attachments like DocumentReference.
  let att: AttachmentResult | undefined;
  if (rt === 'Binary' && str(r.data)) {
    att = takeAttachments([{ att: r, stored: ctx.stored, path: '' }], ctx);
  } else if (obj(r.content) && (str(obj(r.content)?.data) || str(obj(r.content)?.url))) {
    att = takeAttachments([{ att: obj(r.content) as Json, stored: obj(ctx.stored.content), path: 'content' }], ctx);
  }
  const narrative = str(obj(r.text)?.div);
  const fields = Object.entries(r)
    .filter(([k]) => !SKIP_KEYS.has(k) && !(rt === 'Binary' && k === 'data'))
    .map(([k, v]) => {
      const t = elementText(v);
      return t ? `${humanize(k)}: ${t}` : undefined;
    })
    .filter((x): x is string => !!x);
  let summary = sentences([
    `${rt}${codeName ? `: ${codeName}` : ''}${occurredAt ? `, ${describeDate(occurredAt, { time: true })}` : ''}`,
    ...fields,
    att?.lines.length ? `Attachments: ${att.lines.join('; ')}` : undefined,
  ]);
  if (summary.length > 4000) summary = `${summary.slice(0, 4000)}…`;
  const texts = [...(narrative ? [htmlToText(narrative)] : []), ...(att?.texts ?? [])].filter((t) => t !== '');
  return {
    kind: att && ctx.attachments.length ? 'document' : 'record',
    type: `fhir:${rt}`,
    occurredAt,
    title: codeName ? `${rt}: ${stripSemanticTag(codeName)}` : rt,
    text: withContents(summary, texts),
    // A Medication is a drug definition, not something taken: keep it out of the "medication" filter.
    tags: [rt === 'Medication' ? 'medication-definition' : rt.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()],
    data: { generic: true, ...(codeName ? { name: codeName } : {}) },
  };
}
