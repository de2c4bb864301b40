/**
 * FHIR R4 -> vault records and samples. Pure: no I/O, no server imports, so the same code serves
 * the Epic sync, Bulk Data NDJSON uploads and the ClinicalRecord files inside an Apple Health
 * export.
 *
 * Each resource becomes one {@link RecordInput} (never dropped: unknown types become generic
 * records), numeric Observations also become {@link QuantitySample}s, and anything that is not a
 * record (OperationOutcome, bad NDJSON lines, broken attachments) is reported as a
 * {@link FhirIssue} rather than thrown away.
 *
 * This module holds the entry points (a resource, a Bundle, NDJSON, whatever a user hands over);
 * dispatch.ts turns one resource into a record with the handler for its type from resources/.
 */
import { type EntryOptions, originOf, outcomeIssues, sampleOwner, transformOne } from './dispatch.js';
import { bundleLinkOrigin, fullUrlOrigin, uploadScope } from './origin.js';
import { iterateNdjson, parseNdjson } from './ndjson.js';
import { refuseServerOnly, ServerReportCheck } from './server-report.js';
import { FhirInputError, type FhirIssue, MAX_RESOURCE_DEPTH, type TransformOptions, type TransformResult } from './result.js';
import { isObject, type Json, nestsDeeperThan, obj, str } from './util.js';
import type { QuantitySample, RecordInput } from '../types.js';

export { describeDate, instantMs, localDateOf } from './dates.js';
export { describeCoding, metricForLoinc, primaryCoding, typeForCoding, typeForConcepts, type CodeRef, type LoincInfo } from './codes.js';
export { iterateNdjson, parseNdjson, type NdjsonLine, type NdjsonParse } from './ndjson.js';
export { FhirInputError, MAX_RESOURCE_DEPTH, type FhirIssue, type TransformOptions, type TransformResult } from './result.js';

/** The record a sample of this module's results was read with: its fate (an older revision kept out) is the sample's. */
export function recordOfSample(sample: QuantitySample): RecordInput | undefined {
  return sampleOwner.get(sample);
}

/**
 * Transforms one resource. A Bundle is unpacked (see {@link transformBundle}); an
 * OperationOutcome yields no record, only issues.
 * @throws FhirInputError when `resource` is not an object with a valid `resourceType`, or nests
 * more than {@link MAX_RESOURCE_DEPTH} levels.
 */
export function transformResource(resource: unknown, opts: TransformOptions = {}): TransformResult {
  const r = requireResource(resource);
  const refused = refusal(r, false);
  if (refused) throw new FhirInputError(refused.message);
  return transformChecked(r, opts);
}

/** A resource {@link refusal} let through: a Bundle is unpacked, anything else is one record. */
function transformChecked(r: Json, opts: EntryOptions): TransformResult {
  if (r.resourceType === 'Bundle') return bundleEntries(r, opts);
  const out: TransformResult = { records: [], samples: [], issues: [] };
  transformOne(r, opts, out);
  return out;
}

/**
 * Transforms every entry of a Bundle of any type (searchset, collection, document, transaction,
 * history, ...). Entries resolve references to each other (a MedicationRequest to an included
 * Medication); OperationOutcome entries and entries without a resource become issues; nested
 * Bundles are unpacked; the same resource version appearing twice is kept once. An entry whose
 * resource has an invalid `resourceType` or nests too deeply becomes an issue too; the other
 * entries are still transformed.
 * @throws FhirInputError when `bundle` is not a FHIR resource.
 */
export function transformBundle(bundle: unknown, opts: TransformOptions = {}): TransformResult {
  const b = requireResource(bundle);
  if (b.resourceType !== 'Bundle') return transformResource(b, opts);
  return bundleEntries(b, opts);
}

function bundleEntries(b: Json, opts: EntryOptions): TransformResult {
  const out: TransformResult = { records: [], samples: [], issues: [] };
  // A lone entry object is read as a list of one; anything else would import nothing, silently.
  if (b.entry !== undefined && !Array.isArray(b.entry) && !isObject(b.entry)) {
    throw new FhirInputError(`This Bundle's "entry" is ${describe(b.entry)}, not a list of entries, so there is nothing to import.`);
  }
  const entries: unknown[] = Array.isArray(b.entry) ? b.entry : b.entry === undefined ? [] : [b.entry];
  const index = new Map<string, Json>();
  // Measured once, here: a refused resource is neither transformed nor found by a reference
  // (a report summarises its results from the Bundle).
  const refusals = new Map<number, { kind?: FhirIssue['kind']; message: string }>();
  entries.forEach((e, i) => {
    if (!isObject(e)) return;
    const res = obj(e.resource);
    if (!res) return;
    const refused = typeof res.resourceType === 'string' ? refusal(res, true) : undefined;
    if (refused) refusals.set(i, refused);
  });
  // Ids are unique per server: each entry's origin is its fullUrl's, else the Bundle's (a nested
  // Bundle's entry, a self link), else this upload's own, hashed from the resources measured
  // above (a refused one may nest too deep to hash).
  const named = entries.map((e) => (isObject(e) ? fullUrlOrigin(str(e.fullUrl)) : undefined));
  // The other entries all naming one server say where the Bundle came from.
  const servers = new Set(named.filter((o) => o !== undefined && !o.startsWith('urn:')));
  let scope: string | undefined;
  const origins = entries.map((e, i) => {
    if (!isObject(e)) return undefined;
    const own = named[i];
    if (own) return own;
    scope ??=
      opts.entryOrigin ??
      bundleLinkOrigin(b) ??
      (servers.size === 1 ? [...servers][0] : undefined) ??
      uploadScope(
        entries.flatMap((x, i) => (isObject(x) && isObject(x.resource) && typeof x.resource.resourceType === 'string' && !refusals.has(i) ? [x.resource] : [])),
      );
    return scope;
  });
  entries.forEach((e, i) => {
    if (!isObject(e) || refusals.has(i)) return;
    const res = obj(e.resource);
    if (!res) return;
    const full = str(e.fullUrl);
    if (full) index.set(full, res);
    const rt = str(res.resourceType);
    const id = str(res.id);
    if (rt && id) {
      const origin = origins[i];
      if (origin && !index.has(`${origin}/${rt}/${id}`)) index.set(`${origin}/${rt}/${id}`, res);
      if (!index.has(`${rt}/${id}`)) index.set(`${rt}/${id}`, res);
    }
  });
  // A relative reference means the referencing entry's own server (FHIR's rule), so two
  // servers' Medication/1 in one Bundle are each found by their own requests.
  const resolver =
    (origin: string | undefined) =>
    (ref: string): unknown => {
      const local =
        (origin && !ref.includes(':') ? index.get(`${origin}/${ref}`) : undefined) ?? index.get(ref) ?? index.get(ref.replace(/^.*\/(\w+\/[^/]+)$/, '$1'));
      return local ?? opts.resolve?.(ref);
    };
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (!isObject(e)) {
      out.issues.push({ severity: 'warning', kind: 'invalid-entry', entry: i, message: `Bundle entry ${i} is ${describe(e)}, not an object` });
      return;
    }
    const res = e.resource;
    if (!isObject(res) || typeof res.resourceType !== 'string') {
      const outcome = obj(obj(e.response)?.outcome);
      if (outcome) {
        out.issues.push(...outcomeIssues(outcome).map((x) => ({ ...x, entry: i })));
        return;
      }
      const req = obj(e.request);
      const what = req ? `${str(req.method) ?? ''} ${str(req.url) ?? ''}`.trim() : str(e.fullUrl);
      out.issues.push({ severity: 'warning', kind: 'invalid-entry', entry: i, message: `Bundle entry ${i} has no resource${what ? ` (${what})` : ''}` });
      return;
    }
    // One odd entry ("observation", "__proto__", 5,000 levels of extension) costs that entry only.
    const refused = refusals.get(i);
    if (refused) {
      out.issues.push({ severity: 'error', kind: refused.kind ?? 'invalid-entry', entry: i, message: `Bundle entry ${i}: ${refused.message}` });
      return;
    }
    const part = transformChecked(res, { ...opts, entryOrigin: origins[i], resolve: resolver(originOf({ ...opts, entryOrigin: origins[i] })) });
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
 * @throws FhirInputError when the input is not FHIR at all, or holds nothing but a health
 * system's own messages (an OperationOutcome instead of data, a CapabilityStatement).
 */
export function transformAny(json: unknown, opts: TransformOptions = {}): TransformResult {
  return refuseServerOnly(transformInput(json, opts));
}

function transformInput(json: unknown, opts: TransformOptions): TransformResult {
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
    return transformInput(parsed, opts);
  }
  if (Array.isArray(json)) {
    const bad = json.findIndex((x) => !isObject(x) || typeof x.resourceType !== 'string');
    if (json.length === 0 || bad !== -1) {
      throw new FhirInputError(
        json.length === 0 ? 'The input is an empty array: expected FHIR resources.' : `Item ${bad} of the array is not a FHIR resource (no "resourceType").`,
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
 * @throws FhirInputError once the stream ends, when every line was a health system's own message
 * (an OperationOutcome instead of data, a CapabilityStatement).
 */
export async function* transformNdjsonStream(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  opts: TransformOptions & { maxLineChars?: number } = {},
): AsyncGenerator<TransformResult & { line: number }> {
  const check = new ServerReportCheck();
  for await (const item of iterateNdjson(source, opts)) {
    const r =
      'error' in item
        ? {
            line: item.line,
            records: [],
            samples: [],
            issues: [{ severity: 'error' as const, kind: 'invalid-line' as const, line: item.line, message: item.error }],
          }
        : { line: item.line, ...transformLine(item.resource, item.line, opts) };
    check.add(r);
    yield r;
  }
  check.refuseServerOnly();
}

function transformLine(resource: Json, line: number, opts: TransformOptions): TransformResult {
  const refused = refusal(resource, false);
  if (refused)
    return {
      records: [],
      samples: [],
      issues: [{ severity: 'error', kind: refused.kind ?? 'invalid-line', line, message: `line ${line}: ${refused.message}` }],
    };
  try {
    const r = transformChecked(resource, opts);
    for (const i of r.issues) i.line ??= line;
    return r;
  } catch (e) {
    return { records: [], samples: [], issues: [{ severity: 'error', kind: 'invalid-line', line, message: `line ${line}: ${(e as Error).message}` }] };
  }
}

function mergeLine(out: TransformResult, r: TransformResult): void {
  out.records.push(...r.records);
  out.samples.push(...r.samples);
  out.issues.push(...r.issues);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

function requireResource(v: unknown): Json {
  if (!isObject(v)) throw new FhirInputError(`Expected a FHIR resource (a JSON object with "resourceType"), got ${describe(v)}.`);
  if (!isResourceType(v.resourceType)) throw new FhirInputError('This JSON has no valid "resourceType", so it is not a FHIR resource or Bundle.');
  return v;
}

/**
 * FHIR type names are capitalised letters only, so "observation", "constructor" or "__proto__"
 * never reach a lookup by type.
 */
function isResourceType(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Z][A-Za-z]{1,63}$/.test(v);
}

/**
 * Why an object with a `resourceType` is not transformed, or undefined when it can be. The depth
 * is checked where each resource is read, once: the transform's walks are recursive. A Bundle
 * at the top is not measured whole (each entry is, so one deep entry costs that entry only); one
 * nested in an entry is, which also bounds how deep Bundles nest in Bundles.
 */
function refusal(r: Json, nested: boolean): { kind?: FhirIssue['kind']; message: string } | undefined {
  if (!isResourceType(r.resourceType)) {
    return { message: `${JSON.stringify(String(r.resourceType).slice(0, 64))} is not a FHIR resource type, so this is not a FHIR resource` };
  }
  if ((nested || r.resourceType !== 'Bundle') && nestsDeeperThan(r, MAX_RESOURCE_DEPTH)) {
    return {
      kind: 'too-deep',
      message: `This ${r.resourceType} resource is nested more than ${MAX_RESOURCE_DEPTH} levels deep (real resources nest about 15), so it was not imported.`,
    };
  }
  return undefined;
}
