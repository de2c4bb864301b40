/**
 * FHIR R4 -> vault records and samples. Pure: no I/O, no server imports, so the same code serves
 * the Epic sync, Bulk Data NDJSON uploads and the ClinicalRecord files inside an Apple Health
 * export.
 *
 * Each resource becomes one {@link RecordInput} (never dropped: unknown types become generic
 * records), numeric Observations also become {@link QuantitySample}s, and anything that is not a
 * record (OperationOutcome, bad NDJSON lines, broken attachments) is reported as a
 * {@link FhirIssue} rather than thrown away.
 */
import type { QuantitySample, RecordInput, RecordSource } from '../types.js';
import {
  type CodeRef,
  codingsOf,
  conceptName,
  describeCodes,
  loincShortName,
  stripSemanticTag,
  typeForConcepts,
} from './codes.js';
import { describeDate, instantMs, isFhirDate, localDateOf } from './dates.js';
import { iterateNdjson, parseNdjson } from './ndjson.js';
import {
  canonicalJson,
  cdaToText,
  decodeBase64,
  decodeText,
  formatNumber,
  htmlToText,
  isObject,
  type Json,
  num,
  obj,
  objs,
  sentences,
  sha256Hex,
  str,
  strs,
} from './util.js';

export { describeDate, instantMs, localDateOf } from './dates.js';
export {
  describeCoding,
  metricForLoinc,
  primaryCoding,
  typeForCoding,
  typeForConcepts,
  type CodeRef,
  type LoincInfo,
} from './codes.js';
export { iterateNdjson, parseNdjson, type NdjsonLine, type NdjsonParse } from './ndjson.js';

/** Options for every transform entry point. */
export interface TransformOptions {
  /** Value of `RecordInput.source`; defaults to 'fhir'. */
  source?: RecordSource;
  /**
   * Looks up a referenced resource ("Medication/123", a Bundle entry's fullUrl). Bundles resolve
   * their own entries; a caller that fetched referenced resources separately can supply more.
   */
  resolve?: (reference: string) => unknown;
}

/** Something the transformer did not turn into a record, reported for the user or the log. */
export interface FhirIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  /**
   * operation-outcome: an OperationOutcome from the server (Epic adds one to many searches);
   * invalid-line: an NDJSON line that is not a resource; invalid-entry: a Bundle entry without a
   * usable resource; attachment: an attachment that could not be decoded; duplicate: the same
   * resource version seen twice in one input.
   */
  kind: 'operation-outcome' | 'invalid-line' | 'invalid-entry' | 'attachment' | 'duplicate';
  message: string;
  /** 1-based NDJSON line. */
  line?: number;
  /** 0-based Bundle entry index. */
  entry?: number;
  /** "Type/id" of the resource concerned, where known. */
  resource?: string;
}

/** What a transform produces. */
export interface TransformResult {
  records: RecordInput[];
  samples: QuantitySample[];
  issues: FhirIssue[];
}

/** Input that is not FHIR at all (not JSON, or JSON without a `resourceType`). */
export class FhirInputError extends Error {
  override readonly name = 'FhirInputError';
  constructor(message: string) {
    super(message);
  }
}

/** Characters of attachment text kept in `text`; the whole file is still kept as an attachment. */
const MAX_ATTACHMENT_TEXT = 200_000;
const UCUM = 'http://unitsofmeasure.org';

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Transforms one resource. A Bundle is unpacked (see {@link transformBundle}); an
 * OperationOutcome yields no record, only issues.
 * @throws FhirInputError when `resource` is not an object with a `resourceType`.
 */
export function transformResource(resource: unknown, opts: TransformOptions = {}): TransformResult {
  const r = requireResource(resource);
  if (r.resourceType === 'Bundle') return transformBundle(r, opts);
  const out: TransformResult = { records: [], samples: [], issues: [] };
  transformOne(r, opts, out);
  return out;
}

/**
 * Transforms every entry of a Bundle of any type (searchset, collection, document, transaction,
 * history, ...). Entries resolve references to each other (a MedicationRequest to an included
 * Medication); OperationOutcome entries and entries without a resource become issues; nested
 * Bundles are unpacked; the same resource version appearing twice is kept once.
 * @throws FhirInputError when `bundle` is not a FHIR resource.
 */
export function transformBundle(bundle: unknown, opts: TransformOptions = {}): TransformResult {
  const b = requireResource(bundle);
  if (b.resourceType !== 'Bundle') return transformResource(b, opts);
  const out: TransformResult = { records: [], samples: [], issues: [] };
  const entries = objs(b.entry);
  const index = new Map<string, Json>();
  for (const e of entries) {
    const res = obj(e.resource);
    if (!res) continue;
    const full = str(e.fullUrl);
    if (full) index.set(full, res);
    const rt = str(res.resourceType);
    const id = str(res.id);
    if (rt && id) index.set(`${rt}/${id}`, res);
  }
  const resolve = (ref: string): unknown => {
    const local = index.get(ref) ?? index.get(ref.replace(/^.*\/(\w+\/[^/]+)$/, '$1'));
    return local ?? opts.resolve?.(ref);
  };
  const inner: TransformOptions = { ...opts, resolve };
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const res = e.resource;
    if (!isObject(res) || typeof res.resourceType !== 'string') {
      const outcome = obj(obj(e.response)?.outcome);
      if (outcome) {
        out.issues.push(...outcomeIssues(outcome).map((x) => ({ ...x, entry: i })));
        return;
      }
      const req = obj(e.request);
      const what = req ? `${str(req.method) ?? ''} ${str(req.url) ?? ''}`.trim() : str(e.fullUrl);
      out.issues.push({
        severity: 'warning',
        kind: 'invalid-entry',
        entry: i,
        message: `Bundle entry ${i} has no resource${what ? ` (${what})` : ''}`,
      });
      return;
    }
    const part = transformResource(res, inner);
    for (const issue of part.issues) out.issues.push(issue.entry === undefined ? { ...issue, entry: i } : issue);
    for (const rec of part.records) {
      const key = `${rec.externalId}|${rec.externalVersion}`;
      if (seen.has(key)) {
        out.issues.push({
          severity: 'information',
          kind: 'duplicate',
          entry: i,
          resource: rec.externalId,
          message: `${rec.externalId} appears more than once in the Bundle; kept once`,
        });
        continue;
      }
      seen.add(key);
      out.records.push(rec);
      out.samples.push(...part.samples.filter((s) => sampleOwner.get(s) === rec));
    }
  });
  return out;
}

/**
 * Transforms whatever a user or a server hands over: a resource, a Bundle, an array of
 * resources, or text holding JSON or NDJSON.
 * @throws FhirInputError when the input is not FHIR at all.
 */
export function transformAny(json: unknown, opts: TransformOptions = {}): TransformResult {
  if (typeof json === 'string') {
    const text = json.replace(/^\uFEFF/, '').trim();
    if (text === '') throw new FhirInputError('The input is empty: expected FHIR JSON or NDJSON.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      // More than one line of objects: NDJSON (Bulk Data).
      if (text.startsWith('{') && text.includes('\n')) return transformNdjson(text, opts);
      throw new FhirInputError(`The input is not JSON (${(e as Error).message}), so it is not FHIR.`);
    }
    return transformAny(parsed, opts);
  }
  if (Array.isArray(json)) {
    const bad = json.findIndex((x) => !isObject(x) || typeof x.resourceType !== 'string');
    if (json.length === 0 || bad !== -1) {
      throw new FhirInputError(
        json.length === 0
          ? 'The input is an empty array: expected FHIR resources.'
          : `Item ${bad} of the array is not a FHIR resource (no "resourceType").`,
      );
    }
    return transformBundle({ resourceType: 'Bundle', type: 'collection', entry: json.map((resource) => ({ resource })) }, opts);
  }
  return transformResource(json, opts);
}

/**
 * Transforms NDJSON text (FHIR Bulk Data). Invalid lines become `invalid-line` issues carrying
 * their line number; the others are transformed.
 */
export function transformNdjson(text: string, opts: TransformOptions = {}): TransformResult {
  const parsed = parseNdjson(text);
  const out: TransformResult = { records: [], samples: [], issues: [] };
  for (const e of parsed.errors) out.issues.push({ severity: 'error', kind: 'invalid-line', line: e.line, message: e.error });
  for (const { line, resource } of parsed.resources) mergeLine(out, transformLine(resource, line, opts));
  out.issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return out;
}

/**
 * Streams NDJSON (strings or bytes in any chunking) and yields each line's result as soon as the
 * line is complete, so a multi-gigabyte Bulk Data file is transformed in constant memory.
 */
export async function* transformNdjsonStream(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  opts: TransformOptions & { maxLineChars?: number } = {},
): AsyncGenerator<TransformResult & { line: number }> {
  for await (const item of iterateNdjson(source, opts)) {
    if ('error' in item) {
      yield {
        line: item.line,
        records: [],
        samples: [],
        issues: [{ severity: 'error', kind: 'invalid-line', line: item.line, message: item.error }],
      };
    } else {
      yield { line: item.line, ...transformLine(item.resource, item.line, opts) };
    }
  }
}

function transformLine(resource: Json, line: number, opts: TransformOptions): TransformResult {
  try {
    const r = transformResource(resource, opts);
    for (const i of r.issues) i.line ??= line;
    return r;
  } catch (e) {
    return {
      records: [],
      samples: [],
      issues: [{ severity: 'error', kind: 'invalid-line', line, message: `line ${line}: ${(e as Error).message}` }],
    };
  }
}

function mergeLine(out: TransformResult, r: TransformResult): void {
  out.records.push(...r.records);
  out.samples.push(...r.samples);
  out.issues.push(...r.issues);
}

function requireResource(v: unknown): Json {
  if (!isObject(v)) {
    const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
    throw new FhirInputError(`Expected a FHIR resource (a JSON object with "resourceType"), got ${what}.`);
  }
  if (typeof v.resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(v.resourceType)) {
    throw new FhirInputError(
      'This JSON has no valid "resourceType", so it is not a FHIR resource or Bundle.',
    );
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Per-resource machinery

/** Which record each sample came from, so Bundle de-duplication drops both together. */
const sampleOwner = new WeakMap<QuantitySample, RecordInput>();

interface Ctx {
  rt: string;
  resource: Json;
  /** Deep copy stored as `data.resource`, with inline attachment bytes removed. */
  stored: Json;
  opts: TransformOptions;
  issues: FhirIssue[];
  attachments: NonNullable<RecordInput['attachments']>;
  /** Where inline bytes were removed from `stored`, and the attachment that holds them. */
  stripped: Array<{ path: string; name: string }>;
  externalId: string;
}

/** What a type handler decides; the rest of the record is common. */
interface Built {
  kind?: RecordInput['kind'];
  type: string;
  occurredAt: string | undefined;
  title: string;
  text: string;
  tags: string[];
  data: Record<string, unknown>;
  samples?: QuantitySample[];
}

type Handler = (r: Json, ctx: Ctx) => Built;

const HANDLERS: Record<string, Handler> = {
  Patient: patient,
  Observation: observation,
  Condition: condition,
  MedicationRequest: medication,
  MedicationStatement: medication,
  AllergyIntolerance: allergy,
  Immunization: immunization,
  DiagnosticReport: diagnosticReport,
  Procedure: procedure,
  Encounter: encounter,
  DocumentReference: documentReference,
};

function transformOne(r: Json, opts: TransformOptions, out: TransformResult): void {
  const rt = r.resourceType as string;
  const id = str(r.id);
  if (rt === 'OperationOutcome') {
    out.issues.push(...outcomeIssues(r));
    return;
  }
  const hash = sha256Hex(canonicalJson(r));
  const externalId = id ? `${rt}/${id}` : `${rt}/sha256-${hash.slice(0, 32)}`;
  const meta = obj(r.meta);
  const externalVersion = str(meta?.versionId) ?? str(meta?.lastUpdated) ?? `sha256:${hash.slice(0, 32)}`;
  const ctx: Ctx = {
    rt,
    resource: r,
    stored: structuredClone(r),
    opts,
    issues: [],
    attachments: [],
    stripped: [],
    externalId,
  };
  const built = (HANDLERS[rt] ?? generic)(r, ctx);
  const status = str(r.status);
  const tags = [...new Set(built.tags.filter((t) => t !== ''))];
  if (status === 'entered-in-error' && !tags.includes('entered-in-error')) tags.push('entered-in-error');
  const record: RecordInput = {
    kind: built.kind ?? 'record',
    source: opts.source ?? 'fhir',
    type: built.type,
    externalId,
    externalVersion,
    occurredAt: built.occurredAt ?? null,
    title: built.title.length > 200 ? `${built.title.slice(0, 197)}…` : built.title,
    text: built.text,
    tags,
    data: {
      resource: ctx.stored,
      resourceType: rt,
      ...built.data,
      ...(ctx.stripped.length ? { strippedAttachments: ctx.stripped } : {}),
    },
  };
  if (ctx.attachments.length) record.attachments = ctx.attachments;
  out.records.push(record);
  for (const s of built.samples ?? []) {
    sampleOwner.set(s, record);
    out.samples.push(s);
  }
  out.issues.push(...ctx.issues.map((i) => ({ ...i, resource: i.resource ?? externalId })));
}

function outcomeIssues(oo: Json): FhirIssue[] {
  const list = objs(oo.issue);
  if (list.length === 0) {
    return [{ severity: 'information', kind: 'operation-outcome', message: 'OperationOutcome without issues' }];
  }
  return list.map((i) => {
    const sev = str(i.severity);
    const severity: FhirIssue['severity'] =
      sev === 'fatal' || sev === 'error' || sev === 'warning' ? sev : 'information';
    const details = conceptName(i.details);
    const parts = [details, str(i.diagnostics)].filter((x): x is string => !!x);
    const code = str(i.code);
    return {
      severity,
      kind: 'operation-outcome' as const,
      message: `Server ${severity}${code ? ` (${code})` : ''}: ${parts.length ? [...new Set(parts)].join(' — ') : 'no details'}`,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Shared readers

function dateText(iso: string | undefined, time = true): string | undefined {
  return iso ? describeDate(iso, { time }) : undefined;
}

/** "27 Sep 2025, 13:00 to 19:01" or "2 Jul 1999 to 4 Jul 1999". */
function periodText(p: unknown): string | undefined {
  const period = obj(p);
  const start = str(period?.start);
  const end = str(period?.end);
  if (!start && !end) return undefined;
  if (start && end) {
    const s = describeDate(start, { time: true });
    const e = describeDate(end, { time: true });
    const sameDay = localDateOf(start) !== undefined && localDateOf(start) === localDateOf(end);
    const endTime = /, (\d{2}:\d{2})$/.exec(e)?.[1];
    return sameDay && endTime ? `${s} to ${endTime}` : `${s} to ${e}`;
  }
  return start ? `from ${describeDate(start, { time: true })}` : `until ${describeDate(end as string, { time: true })}`;
}

/** A FHIR `[x]` choice's date: the dateTime, or the Period's start. */
function choiceDate(r: Json, prefix: string): string | undefined {
  const dt = str(r[`${prefix}DateTime`]) ?? str(r[`${prefix}Instant`]);
  if (dt) return dt;
  const period = obj(r[`${prefix}Period`]);
  return str(period?.start);
}

/** Human text for a FHIR `[x]` timing (onset, abatement, performed, occurrence). */
function choiceText(r: Json, prefix: string): string | undefined {
  const dt = str(r[`${prefix}DateTime`]) ?? str(r[`${prefix}Instant`]);
  if (dt) return describeDate(dt, { time: true });
  const p = periodText(r[`${prefix}Period`]);
  if (p) return p;
  const age = obj(r[`${prefix}Age`]);
  if (age && num(age.value) !== undefined) return `at age ${quantityText(age)}`;
  const range = obj(r[`${prefix}Range`]);
  if (range) return `at age ${rangeText(range)}`;
  const s = str(r[`${prefix}String`]);
  if (s) return s;
  if (r[`${prefix}Boolean`] === true) return 'yes';
  return undefined;
}

function humanName(n: Json): string | undefined {
  const text = str(n.text);
  if (text) return text;
  const parts = [...strs(n.prefix), ...strs(n.given), str(n.family), ...strs(n.suffix)].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

/** The name now in use: official or usual, not ended, else the first. */
function currentName(names: Json[]): Json | undefined {
  const live = names.filter((n) => !str(obj(n.period)?.end) && str(n.use) !== 'old');
  return (
    live.find((n) => str(n.use) === 'official') ??
    live.find((n) => str(n.use) === 'usual') ??
    live[0] ??
    names[0]
  );
}

/** Finds a referenced resource: contained ("#id"), the Bundle, or the caller's resolver. */
function resolveRef(ref: unknown, ctx: Ctx): Json | undefined {
  const reference = str(obj(ref)?.reference);
  if (!reference) return undefined;
  if (reference.startsWith('#')) {
    return objs(ctx.resource.contained).find((c) => str(c.id) === reference.slice(1));
  }
  const found = ctx.opts.resolve?.(reference);
  return isObject(found) ? found : undefined;
}

/** Readable label of a Reference: its display, else the name of what it points to. */
function refLabel(ref: unknown, ctx: Ctx, withReference = false): string | undefined {
  const r = obj(ref);
  if (!r) return undefined;
  const display = str(r.display);
  if (display) return withReference && str(r.reference) ? `${display} (${str(r.reference)})` : display;
  const target = resolveRef(r, ctx);
  if (target) {
    const names = objs(target.name);
    const name =
      (names.length ? humanName(currentName(names) ?? {}) : str(target.name)) ??
      conceptName(target.code) ??
      str(target.title);
    if (name) return name;
  }
  const reference = str(r.reference);
  if (withReference && reference) return reference;
  return undefined;
}

function refLabels(refs: unknown, ctx: Ctx, withReference = false): string[] {
  return objs(refs)
    .map((r) => refLabel(r, ctx, withReference))
    .filter((x): x is string => !!x);
}

/** Performer / actor lists: Reference, or { actor: Reference } (Immunization, Procedure). */
function actorLabels(list: unknown, ctx: Ctx): string[] {
  return objs(list)
    .map((p) => refLabel(obj(p.actor) ?? p, ctx))
    .filter((x): x is string => !!x);
}

function conceptNames(list: unknown): string[] {
  return objs(list)
    .map((c) => conceptName(c))
    .filter((x): x is string => !!x);
}

function notesText(r: Json): string | undefined {
  const notes = objs(r.note)
    .map((n) => str(n.text))
    .filter((x): x is string => !!x);
  return notes.length ? `Note: ${notes.join(' ')}` : undefined;
}

function statusCode(concept: unknown): string | undefined {
  return codingsOf(concept)[0]?.code ?? str(obj(concept)?.text);
}

/** Tags from category codings in the given systems (e.g. "vital-signs", "laboratory"). */
function categoryTags(categories: unknown, systems: string[], map: Record<string, string> = {}): string[] {
  const out: string[] = [];
  for (const c of objs(categories).flatMap(codingsOf)) {
    if (c.system && !systems.includes(c.system)) continue;
    const mapped = map[c.code];
    if (mapped) out.push(mapped);
    else if (/^[a-z][a-z-]*$/.test(c.code)) out.push(c.code);
  }
  return out;
}

function codesData(concepts: unknown[]): CodeRef[] {
  return concepts.flatMap(codingsOf);
}

function quantityUnit(q: Json): { ucum?: string; display?: string } {
  const code = str(q.code);
  const system = str(q.system);
  const unit = str(q.unit);
  const out: { ucum?: string; display?: string } = {};
  if (code && (!system || system === UCUM)) out.ucum = code;
  const display = unit ?? code;
  if (display) out.display = display;
  return out;
}

function withUnit(value: string, unit: string | undefined): string {
  if (!unit) return value;
  return unit === '%' ? `${value}%` : `${value} ${unit}`;
}

function quantityText(q: Json): string {
  const v = num(q.value);
  const comparator = str(q.comparator) ?? '';
  return withUnit(`${comparator}${v === undefined ? '?' : formatNumber(v)}`, quantityUnit(q).display);
}

function rangeText(range: Json): string {
  const low = obj(range.low);
  const high = obj(range.high);
  const lv = low ? num(low.value) : undefined;
  const hv = high ? num(high.value) : undefined;
  const unit = quantityUnit(high ?? low ?? {}).display;
  if (lv !== undefined && hv !== undefined) return withUnit(`${formatNumber(lv)}–${formatNumber(hv)}`, unit);
  if (lv !== undefined) return withUnit(`≥ ${formatNumber(lv)}`, unit);
  if (hv !== undefined) return withUnit(`≤ ${formatNumber(hv)}`, unit);
  return '';
}

// ---------------------------------------------------------------------------------------------
// Attachments (DocumentReference.content, DiagnosticReport.presentedForm, Binary, Media)

const EXT: Record<string, string> = {
  'application/pdf': '.pdf',
  'application/xml': '.xml',
  'text/xml': '.xml',
  'application/json': '.json',
  'application/fhir+json': '.json',
  'text/plain': '.txt',
  'text/html': '.html',
  'application/xhtml+xml': '.xhtml',
  'text/rtf': '.rtf',
  'application/rtf': '.rtf',
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'image/tiff': '.tiff',
  'application/dicom': '.dcm',
  'text/csv': '.csv',
  'text/markdown': '.md',
};

interface AttachmentResult {
  /** One line per attachment for the record text. */
  lines: string[];
  /** Readable contents of text attachments. */
  texts: string[];
  /** Attachments only available by URL, for a sync that can fetch them later. */
  remote: Array<{ url: string; contentType?: string; title?: string }>;
}

function sizeText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function safeFileName(s: string): string {
  return s.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').replace(/^\.+/, '').slice(0, 120) || 'attachment';
}

/**
 * Decodes inline attachments into `ctx.attachments` and removes their base64 from the stored copy
 * (the bytes are kept once, as an encrypted file; `data.strippedAttachments` says where they came
 * from so an export can put them back). Text attachments also give readable text.
 */
function takeAttachments(items: Array<{ att: Json; stored: Json | undefined; path: string }>, ctx: Ctx): AttachmentResult {
  const res: AttachmentResult = { lines: [], texts: [], remote: [] };
  const id = str(ctx.resource.id) ?? 'resource';
  items.forEach(({ att, stored, path }, i) => {
    const contentType = str(att.contentType) ?? 'application/octet-stream';
    const mime = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const title = str(att.title);
    const data = str(att.data);
    const url = str(att.url);
    if (data) {
      const bytes = decodeBase64(data);
      if (!bytes) {
        ctx.issues.push({ severity: 'error', kind: 'attachment', message: `${path}: attachment data is not valid base64; kept in the resource only` });
        res.lines.push(`${title ?? 'attachment'} (${contentType}, could not be decoded)`);
        return;
      }
      const ext = EXT[mime] ?? '';
      const base = title ? safeFileName(title) : `${ctx.rt}-${safeFileName(id)}-${i + 1}`;
      const name = ext && !base.toLowerCase().endsWith(ext) ? `${base}${ext}` : base;
      ctx.attachments.push({ name, contentType, bytes });
      if (stored) delete stored.data;
      ctx.stripped.push({ path, name });
      res.lines.push(`${name} (${mime || contentType}, ${sizeText(bytes.length)})`);
      const readable = readableText(bytes, mime, contentType);
      if (readable) res.texts.push(readable);
    } else if (url) {
      const entry: { url: string; contentType?: string; title?: string } = { url };
      if (str(att.contentType)) entry.contentType = contentType;
      if (title) entry.title = title;
      res.remote.push(entry);
      res.lines.push(`${title ? `${title}: ` : ''}${contentType} at ${url} (not downloaded)`);
    } else if (title) {
      res.lines.push(`${title} (${contentType}, no content)`);
    }
  });
  return res;
}

function readableText(bytes: Uint8Array, mime: string, contentType: string): string | undefined {
  let text: string | undefined;
  if (mime === 'text/html' || mime === 'application/xhtml+xml') text = htmlToText(decodeText(bytes, contentType));
  else if (mime === 'application/xml' || mime === 'text/xml' || mime === 'application/hl7-v3+xml') text = cdaToText(decodeText(bytes, contentType));
  else if (mime.startsWith('text/') && mime !== 'text/rtf') text = decodeText(bytes, contentType).trim();
  if (!text) return undefined;
  return text.length > MAX_ATTACHMENT_TEXT ? `${text.slice(0, MAX_ATTACHMENT_TEXT)}\n[… text truncated; the full file is attached]` : text;
}

function withContents(paragraph: string, texts: string[]): string {
  return texts.length ? `${paragraph}\n\n${texts.join('\n\n')}` : paragraph;
}

// ---------------------------------------------------------------------------------------------
// Patient

function patient(r: Json, ctx: Ctx): Built {
  const names = objs(r.name);
  const current = currentName(names);
  const name = (current && humanName(current)) ?? 'Unnamed patient';
  const previous = names.filter((n) => n !== current).map(humanName).filter((n): n is string => !!n && n !== name);
  const birthDate = str(r.birthDate);
  const gender = str(r.gender);
  const addresses = objs(r.address);
  const address = addresses.find((a) => !str(obj(a.period)?.end) && str(a.use) !== 'old') ?? addresses[0];
  const addressText = address
    ? str(address.text) ??
      [...strs(address.line), str(address.city), [str(address.state), str(address.postalCode)].filter(Boolean).join(' '), str(address.country)]
        .filter((x) => x && x !== '')
        .join(', ')
    : undefined;
  const telecom = objs(r.telecom);
  const phones = telecom.filter((t) => str(t.system) === 'phone').map((t) => str(t.value)).filter(Boolean);
  const emails = telecom.filter((t) => str(t.system) === 'email').map((t) => str(t.value)).filter(Boolean);
  const languages = objs(r.communication).map((c) => conceptName(c.language)).filter(Boolean);
  const ext = (url: string): string | undefined => {
    const e = objs(r.extension).find((x) => str(x.url)?.endsWith(url));
    return e ? str(objs(e.extension).find((x) => str(x.url) === 'text')?.valueString) : undefined;
  };
  // Only the medical record number goes into the text: SSNs, driver's licences and passports are
  // no help to a reader or a model and are kept in the encrypted original only.
  const mrn = objs(r.identifier).find((i) => codingsOf(i.type).some((c) => c.code === 'MR'));
  const deceased = str(r.deceasedDateTime) ? `Deceased ${describeDate(str(r.deceasedDateTime) as string)}` : r.deceasedBoolean === true ? 'Deceased' : undefined;
  const text = sentences([
    `Patient ${name}${gender ? `, ${gender}` : ''}${birthDate ? `, born ${describeDate(birthDate)}` : ''}`,
    previous.length ? `Previous names: ${previous.join('; ')}` : undefined,
    deceased,
    addressText ? `Address: ${addressText}` : undefined,
    phones.length ? `Phone: ${phones.join(', ')}` : undefined,
    emails.length ? `Email: ${emails.join(', ')}` : undefined,
    languages.length ? `Language: ${languages.join(', ')}` : undefined,
    conceptName(r.maritalStatus) ? `Marital status: ${conceptName(r.maritalStatus)}` : undefined,
    ext('us-core-race') ? `Race: ${ext('us-core-race')}` : undefined,
    ext('us-core-ethnicity') ? `Ethnicity: ${ext('us-core-ethnicity')}` : undefined,
    mrn && str(mrn.value) ? `Medical record number: ${str(mrn.value)}` : undefined,
    refLabels(r.generalPractitioner, ctx).length ? `General practitioner: ${refLabels(r.generalPractitioner, ctx).join(', ')}` : undefined,
  ]);
  return {
    type: 'fhir:Patient',
    occurredAt: birthDate,
    title: `Patient: ${name}`,
    text,
    tags: ['patient'],
    data: { name, gender, birthDate },
  };
}

// ---------------------------------------------------------------------------------------------
// Observation

const INTERPRETATION: Record<string, string> = {
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
};

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
const OBS_CATEGORY_SYSTEMS = ['http://terminology.hl7.org/CodeSystem/observation-category', 'http://hl7.org/fhir/observation-category'];
const OBS_KIND: Record<string, string> = {
  'vital-signs': 'Vital sign',
  laboratory: 'Laboratory result',
  'social-history': 'Social history',
  imaging: 'Imaging result',
  survey: 'Survey answer',
  exam: 'Examination finding',
  procedure: 'Procedure result',
  therapy: 'Therapy observation',
  activity: 'Activity',
};

interface ComponentInfo extends ValueInfo {
  type: string;
  name: string;
  codes: CodeRef[];
  referenceRange: RangeInfo[];
  interpretation: string[];
}

function observation(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// Condition

const CONDITION_CATEGORY_SYSTEMS = [
  'http://terminology.hl7.org/CodeSystem/condition-category',
  'http://hl7.org/fhir/us/core/CodeSystem/condition-category',
];

function condition(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// MedicationRequest, MedicationStatement

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

function medication(r: Json, ctx: Ctx): Built {
  const isRequest = ctx.rt === 'MedicationRequest';
  const medRes = resolveRef(r.medicationReference, ctx);
  const concept = r.medicationCodeableConcept ?? medRes?.code;
  const fullName = conceptName(concept) ?? refLabel(r.medicationReference, ctx) ?? 'Unnamed medication';
  const status = str(r.status);
  const intent = str(r.intent);
  const date = isRequest ? str(r.authoredOn) : choiceDate(r, 'effective') ?? str(r.dateAsserted);
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

// ---------------------------------------------------------------------------------------------
// AllergyIntolerance

function allergy(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// Immunization

function immunization(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// DiagnosticReport

const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const REPORT_CATEGORY: Record<string, string> = {
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
};

function diagnosticReport(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// Procedure

function procedure(r: Json, ctx: Ctx): Built {
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

// ---------------------------------------------------------------------------------------------
// Encounter

const ENCOUNTER_CLASS: Record<string, string> = {
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
};

function encounter(r: Json, ctx: Ctx): Built {
  // R4 has class as a Coding; R5 and some servers send CodeableConcepts.
  const classCoding = codingsOf(r.class)[0] ?? objs(r.class).flatMap(codingsOf)[0];
  const classLabel = classCoding ? ENCOUNTER_CLASS[classCoding.code] ?? classCoding.display?.toLowerCase() ?? classCoding.code : undefined;
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
    data: {
      codes: codesData(types),
      class: classCoding,
      status,
      period: obj(r.period),
      reasons,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DocumentReference

const DOC_CATEGORY_SYSTEMS = ['http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category'];

function documentReference(r: Json, ctx: Ctx): Built {
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
    data: {
      codes: codesData([r.type]),
      name: typeName,
      description,
      status,
      date,
      ...(att.remote.length ? { remoteAttachments: att.remote } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Everything else: kept as a generic record, never dropped

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
    const parts = v.slice(0, 10).map((x) => elementText(x, depth)).filter(Boolean);
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

function generic(r: Json, ctx: Ctx): Built {
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
